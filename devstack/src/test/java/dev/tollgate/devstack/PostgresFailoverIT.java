package dev.tollgate.devstack;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.http.TestHttp;
import dev.tollgate.testkit.net.TcpProxy;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.postgres.PrivatePostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * A PostgreSQL failover in which the old primary vanishes without a reset (its node is gone): every
 * database connection open at that moment goes silent for ever, new connections reach the new primary
 * (here: the same server, through a {@code TcpProxy}). Unlike a crash, nothing tells the services; only
 * their own timeouts can. With nobody touching anything, the ledger must take commands again and
 * publish them (a new key works at the gateway), and the invoice writer must bill every usage event
 * produced before, during and after, once.
 */
class PostgresFailoverIT {
    @Test
    void connectionsLeftSilentByAVanishedPrimaryAreAbandonedAndEveryEventIsBilledOnce(@TempDir Path dataDir) throws Exception {
        assumeThat(PrivatePostgres.binaries()).as("PostgreSQL binaries under /usr/lib/postgresql").isPresent();
        try (PrivatePostgres postgres = PrivatePostgres.create(); TcpProxy proxy = TcpProxy.start(postgres.port())) {
            Map<String, String> options = DevOptions.onPostgres(dataDir, proxy.port());
            try (DevStack stack = DevStack.start(options)) {
                PostgresDatabase.Server server = postgres.server(); // the test's own reads go around the proxy
                String billing = LocalBilling.DEFAULT_DATABASE;
                ChatLoad load = new ChatLoad(stack, 0);
                int stranded;
                double ledgerBack;
                double keyAtGateway;
                long failedOver;
                try {
                    await().atMost(Duration.ofMinutes(1)).until(() -> BilledUsage.rows(server, billing) >= 10);
                    for (int i = 0; i < 5; i++) { // the ledger's connections busy and recently used, as in production
                        assertThat(issueKey(stack, "before-" + i).statusCode()).isEqualTo(201);
                    }
                    stranded = proxy.strandOpenConnections();
                    failedOver = System.nanoTime();

                    String[] newKey = new String[1];
                    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
                        HttpResponse<String> issued = issueKey(stack, "after-failover");
                        if (issued.statusCode() != 201) {
                            return false;
                        }
                        newKey[0] = EventCodec.mapper().readTree(issued.body()).path("apiKey").asText();
                        return true;
                    });
                    ledgerBack = (System.nanoTime() - failedOver) / 1e9;
                    await().atMost(Duration.ofMinutes(3)).ignoreExceptions()
                            .until(() -> TestHttp.call("GET", stack.gatewayUrl() + "/v1/models", newKey[0], null).statusCode() == 200);
                    keyAtGateway = (System.nanoTime() - failedOver) / 1e9;
                    Thread.sleep(3_000);
                } finally {
                    load.close();
                }

                BilledUsage.Tally tally = BilledUsage.awaitBilled(stack.kafkaBootstrapServers(), server, billing, "demo", load.served());
                double billingCaughtUp = (System.nanoTime() - failedOver) / 1e9;
                System.out.printf("[fault] PostgreSQL failover, old primary vanished without a reset (%d connections left silent): gateway served %d "
                                + "requests (%d failed); the ledger took commands after %.1f s, a new key worked at the gateway after %.1f s, billing "
                                + "caught up after %.1f s; usage events produced %d, billed %d, lost %d, duplicated %d%n",
                        stranded, load.served(), load.failed(), ledgerBack, keyAtGateway, billingCaughtUp, tally.produced(), tally.billed(),
                        tally.lost().size(), tally.duplicated());
                assertThat(stranded).as("connections open at the failover").isPositive();
                assertThat(load.failed()).as("gateway requests that failed: %s", load.failures()).isZero();
                assertThat(tally.lost()).as("usage events never billed").isEmpty();
                assertThat(tally.unknown()).as("billed, never produced").isEmpty();
                assertThat(tally.duplicated()).as("billed twice").isZero();
            }
        }
    }

    private static HttpResponse<String> issueKey(DevStack stack, String name) throws IOException {
        return TestHttp.call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                "{\"name\":\"" + name + "\",\"scopes\":[\"inference\"]}");
    }
}
