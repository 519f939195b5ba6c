package dev.tollgate.ledger.api;

import dev.tollgate.ledger.support.LedgerTestSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many concurrent commands on one tenant, more than the connection pool (10) and past the snapshot
 * threshold (100 events): every command completes, and a snapshot is taken without deadlocking.
 */
class ConcurrentCommandsIT extends LedgerTestSupport {

    @Test
    void concurrentKeyIssuanceOnOneTenantCompletesAcrossSnapshots() throws Exception {
        String admin = platformAdmin();
        String tenant = newTenantId("conc");
        assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"C " + tenant + "\"}").statusCode()).isEqualTo(201);
        ExecutorService pool = Executors.newFixedThreadPool(24);
        try {
            var calls = new ArrayList<CompletableFuture<HttpResponse<String>>>();
            for (int i = 0; i < 150; i++) {
                int n = i;
                calls.add(CompletableFuture.supplyAsync(() ->
                        call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k" + n + "\"}"), pool));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);
            assertThat(calls).allSatisfy(c -> assertThat(c.join().statusCode()).isEqualTo(201));
        } finally {
            pool.shutdownNow();
        }
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            try (var connection = database().connect(); var statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT count(*) FROM snapshotevententry WHERE aggregateidentifier = '" + tenant + "'")) {
                rows.next();
                return rows.getInt(1) > 0;
            }
        });
        // The tenant still loads (from its snapshot) and takes commands.
        assertThat(call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"after\"}").statusCode()).isEqualTo(201);
    }
}
