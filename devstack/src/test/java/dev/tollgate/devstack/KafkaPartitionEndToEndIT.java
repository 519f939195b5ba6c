package dev.tollgate.devstack;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.http.TestHttp;
import dev.tollgate.testkit.net.TcpProxy;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole platform partitioned from Kafka under load — gateway, ledger, projector and invoice writer
 * all reach it through a proxy that drops bytes without closing anything — first both ways, then only
 * the broker's answers (so that producers and transactions send again what the broker already has),
 * then one that holds the bytes and heals with the connections open, 30 s each. The gateway keeps serving; a key issued at the ledger during each cut works at the gateway
 * after the heal; every usage event is billed once, tracked by event id.
 */
class KafkaPartitionEndToEndIT {
    private static final String DATABASE = "tg_kafka_partition_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final String BILLING = DATABASE + "_billing";
    private static final PostgresDatabase.Server POSTGRES = PostgresDatabase.Server.fromEnvironment();
    private static final Duration CUT = Duration.ofSeconds(30);

    @AfterAll
    static void dropDatabases() throws Exception {
        BilledUsage.dropDatabases(POSTGRES, DATABASE, BILLING);
    }

    @Test
    void everyServicePartitionedFromKafkaRecoversAndEveryEventIsBilledOnce(@TempDir Path dataDir) throws Exception {
        Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "upstream-port", "0", "ledger-database", DATABASE,
                "billing-database", BILLING, "ttft-ms", "5", "inter-token-ms", "1", "completion-tokens", "8", "kafka-via-proxy", "true");
        try (DevStack stack = DevStack.start(options)) {
            List<String> phases = new ArrayList<>();
            long lastHeal;
            ChatLoad load = new ChatLoad(stack, 3);
            try {
                await().atMost(Duration.ofMinutes(1)).until(() -> BilledUsage.rows(POSTGRES, BILLING) >= 10);
                lastHeal = 0;
                for (TcpProxy.Cut cut : TcpProxy.Cut.values()) {
                    stack.partitionKafka(cut);
                    long cutStart = System.nanoTime();
                    int servedAtCut = load.served();
                    HttpResponse<String> issued = TestHttp.call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                            "{\"name\":\"during-" + cut + "\",\"scopes\":[\"inference\"]}");
                    assertThat(issued.statusCode()).as("the ledger takes commands while Kafka is out of reach: " + issued.body()).isEqualTo(201);
                    String key = EventCodec.mapper().readTree(issued.body()).path("apiKey").asText();
                    Thread.sleep(Math.max(0, CUT.toMillis() - (System.nanoTime() - cutStart) / 1_000_000));
                    int served = load.served() - servedAtCut;
                    stack.healKafkaPartition();
                    lastHeal = System.nanoTime();
                    long healed = lastHeal;
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                            .until(() -> TestHttp.call("GET", stack.gatewayUrl() + "/v1/models", key, null).statusCode() == 200);
                    double keyAfter = (System.nanoTime() - healed) / 1e9;
                    // Billing catches up with what was produced up to the heal (the projector may have been fenced and rejoined).
                    int producedAtHeal = BilledUsage.produced(stack.kafkaBootstrapServers(), "demo").size();
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250))
                            .until(() -> BilledUsage.rows(POSTGRES, BILLING) >= producedAtHeal);
                    phases.add("%s cut %d s: %d requests served, the key issued during it worked at the gateway %.1f s after the heal, "
                            .formatted(cut, CUT.toSeconds(), served, keyAfter)
                            + "billing caught up %.1f s after it".formatted((System.nanoTime() - healed) / 1e9));
                    assertThat(served).as("served during the partition (%s)", cut).isGreaterThan(50);
                }
                Thread.sleep(3_000);
            } finally {
                load.close();
            }

            BilledUsage.Tally tally = BilledUsage.awaitBilled(stack.kafkaBootstrapServers(), POSTGRES, BILLING, "demo", load.served());
            double billedAfter = (System.nanoTime() - lastHeal) / 1e9;
            System.out.printf("[fault] every service partitioned from Kafka under load | %s | %d requests (%d failed), all billed %.1f s after the "
                            + "last heal | billable usage events produced %d, billed %d, lost %d, duplicated (billed twice) %d, records re-sent "
                            + "under the same id %d%n", String.join(" | ", phases), load.served(), load.failed(), billedAfter, tally.produced(),
                    tally.billed(), tally.lost().size(), tally.duplicated(), tally.resent());
            assertThat(load.failed()).as("requests that failed: %s", load.failures()).isZero();
            assertThat(tally.lost()).as("produced, never billed").isEmpty();
            assertThat(tally.unknown()).as("billed, never produced").isEmpty();
            assertThat(tally.duplicated()).as("billed twice").isZero();
        }
    }
}
