package dev.tollgate.devstack;

import dev.tollgate.testkit.http.TestHttp;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka stopped for 60 s while the whole platform is under load: the gateway keeps serving every
 * request (authentication and quotas from memory, usage events into its disk spool), and once
 * Kafka is back the spool drains and every usage event reaches the invoice — tracked by event id
 * from the gateway's usage.v1 record to the billing database: produced, billed, lost, duplicated.
 */
class KafkaOutageEndToEndIT {
    private static final String DATABASE = "tg_kafka_outage_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final String BILLING = DATABASE + "_billing";
    private static final PostgresDatabase.Server POSTGRES = PostgresDatabase.Server.fromEnvironment();
    /** 60 s; the {@code soak} profile makes it longer. */
    private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("tollgate.fault.kafka-outage-seconds", 60));

    @AfterAll
    static void dropDatabases() throws Exception {
        BilledUsage.dropDatabases(POSTGRES, DATABASE, BILLING);
    }

    @Test
    void theGatewayServesThroughA60SecondKafkaOutageAndEveryEventIsBilledOnce(@TempDir Path dataDir) throws Exception {
        Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "upstream-port", "0", "ledger-database", DATABASE,
                "billing-database", BILLING, "ttft-ms", "5", "inter-token-ms", "1", "completion-tokens", "8");
        try (DevStack stack = DevStack.start(options)) {
            int servedAtStop;
            int servedDuringOutage;
            double spoolMax = 0;
            long restarted;
            ChatLoad load = new ChatLoad(stack, 3);
            try {
                await().atMost(Duration.ofMinutes(1)).until(() -> BilledUsage.rows(POSTGRES, BILLING) >= 10);
                stack.stopKafka();
                long stopped = System.nanoTime();
                servedAtStop = load.served();
                while (System.nanoTime() - stopped < OUTAGE.toNanos()) {
                    Thread.sleep(2_000);
                    spoolMax = Math.max(spoolMax, spoolPendingBytes(stack));
                }
                servedDuringOutage = load.served() - servedAtStop;
                stack.startKafka();
                restarted = System.nanoTime();
                Thread.sleep(5_000);
            } finally {
                load.close();
            }

            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> spoolPendingBytes(stack) == 0);
            double spoolDrained = (System.nanoTime() - restarted) / 1e9;
            BilledUsage.Tally tally = BilledUsage.awaitBilled(stack.kafkaBootstrapServers(), POSTGRES, BILLING, "demo", load.served());
            double billedAfter = (System.nanoTime() - restarted) / 1e9;

            System.out.printf("[fault] Kafka stopped %d s under load | gateway served %d requests (%d during the outage, %d failed), "
                            + "spool peaked at %.0f bytes and drained %.1f s after Kafka returned, all billed after %.1f s | billable usage "
                            + "events produced %d, billed %d, lost %d, duplicated (billed twice) %d, records re-sent under the same id %d%n",
                    OUTAGE.toSeconds(), load.served(), servedDuringOutage, load.failed(), spoolMax, spoolDrained, billedAfter,
                    tally.produced(), tally.billed(), tally.lost().size(), tally.duplicated(), tally.resent());
            assertThat(load.failed()).as("requests that failed: %s", load.failures()).isZero();
            assertThat(servedDuringOutage).as("served while Kafka was down").isGreaterThan(150);
            assertThat(spoolMax).as("usage waited in the spool").isPositive();
            assertThat(tally.lost()).as("produced, never billed").isEmpty();
            assertThat(tally.unknown()).as("billed, never produced").isEmpty();
            assertThat(tally.duplicated()).as("billed twice").isZero();
        }
    }

    private static double spoolPendingBytes(DevStack stack) throws Exception {
        for (String line : TestHttp.call("GET", stack.gatewayUrl() + "/metrics", null, null).body().split("\n")) {
            if (line.startsWith("tollgate_gateway_spool_pending_bytes")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IllegalStateException("the gateway exports no tollgate_gateway_spool_pending_bytes");
    }
}
