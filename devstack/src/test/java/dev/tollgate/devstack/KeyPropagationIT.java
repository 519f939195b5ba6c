package dev.tollgate.devstack;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How soon a key issued through the admin API works at the gateway (issue #19 item 5): 100 keys (five
 * of them after 2 s of idleness), each tried at the gateway every 5 ms from the moment its 201 arrived
 * until it is accepted. Prints the percentiles; the assertion is a loose bound (a key must never need
 * a person to wait), the figure itself is reported, not asserted (speed goals live in benchmarks).
 * Measured on the 2-core machine (2026-12-02, three runs): p50 25–29 ms, p99 79–91 ms, the first key
 * after start-up 233–620 ms (warm-up), keys after idleness 23–36 ms.
 */
class KeyPropagationIT {
    private static final String DATABASE = "tg_keyprop_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int SAMPLES = 100;

    @TempDir
    static Path dataDir;
    private static DevStack stack;

    @BeforeAll
    static void start() {
        stack = DevStack.start(DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE, "billing-database", DATABASE + "_billing"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
        BilledUsage.dropDatabases(PostgresDatabase.Server.fromEnvironment(), DATABASE, DATABASE + "_billing");
    }

    private static int models(String apiKey) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/models")).header("authorization", "Bearer " + apiKey)
                .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aNewKeyWorksAtTheGatewayWithinMomentsOfItsCreation() throws Exception {
        String tenant = "keyprop-" + UUID.randomUUID().toString().substring(0, 8);
        StackAdmin.tenantWithKey(stack, tenant, "{}");
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            if (i % 20 == 5) {
                Thread.sleep(2_000); // some keys come after the ledger and the gateway sat idle
            }
            HttpResponse<String> created = StackAdmin.admin(stack, "POST", "/admin/v1/tenants/" + tenant + "/keys",
                    "{\"name\":\"k" + i + "\",\"scopes\":[\"inference\"]}");
            long issued = System.nanoTime();
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            String apiKey = EventCodec.mapper().readTree(created.body()).path("apiKey").asText();
            while (models(apiKey) != 200) {
                assertThat(Duration.ofNanos(System.nanoTime() - issued)).as("key %d not accepted yet", i).isLessThan(Duration.ofSeconds(10));
                Thread.sleep(5);
            }
            millis.add((System.nanoTime() - issued) / 1_000_000);
        }
        System.out.printf("[key propagation] in order of issue, ms: %s%n", millis);
        Collections.sort(millis);
        long p50 = millis.get(SAMPLES / 2);
        long p99 = millis.get(SAMPLES * 99 / 100 - 1);
        System.out.printf("[key propagation] %d keys: p50 %d ms, p90 %d ms, p99 %d ms, max %d ms after the 201%n", SAMPLES, p50,
                millis.get(SAMPLES * 9 / 10 - 1), p99, millis.getLast());
        assertThat(p99).as("p99 ms from the 201 to a key the gateway accepts").isLessThan(2_000);
    }
}
