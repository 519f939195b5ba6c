package dev.tollgate.devstack;

import dev.tollgate.billing.UsageBilling;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration OUTAGE = Duration.ofSeconds(60);

    @AfterAll
    static void dropDatabases() throws Exception {
        var server = PostgresDatabase.Server.fromEnvironment();
        try (var connection = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var statement = connection.createStatement()) {
            for (String database : List.of(DATABASE, DATABASE + "_billing")) {
                statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    @Test
    void theGatewayServesThroughA60SecondKafkaOutageAndEveryEventIsBilledOnce(@TempDir Path dataDir) throws Exception {
        Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0",
                "gateway-port", "0", "billing-port", "0", "upstream-port", "0", "ledger-database", DATABASE,
                "billing-database", DATABASE + "_billing", "ttft-ms", "5", "inter-token-ms", "1", "completion-tokens", "8");
        try (DevStack stack = DevStack.start(options)) {
            var served = ConcurrentHashMap.<String>newKeySet();
            var failed = new AtomicInteger();
            var loading = new AtomicBoolean(true);
            Thread load = Thread.ofPlatform().name("load").start(() -> {
                int i = 0;
                while (loading.get()) { // 4 requests a second, every third one streamed: below the demo plan's 600 a minute
                    boolean stream = i++ % 3 == 0;
                    try {
                        HttpResponse<String> answer = call("POST", stack.gatewayUrl() + "/v1/chat/completions", stack.apiKey(),
                                "{\"model\":\"fake-chat\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                        if (answer.statusCode() == 200) {
                            served.add(answer.headers().firstValue("x-request-id").orElseThrow());
                        } else {
                            failed.incrementAndGet();
                        }
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            });
            await().atMost(Duration.ofMinutes(1)).until(() -> billedRows() >= 10);

            stack.stopKafka();
            long stopped = System.nanoTime();
            int servedAtStop = served.size();
            double spoolMax = 0;
            while (System.nanoTime() - stopped < OUTAGE.toNanos()) {
                Thread.sleep(2_000);
                spoolMax = Math.max(spoolMax, spoolPendingBytes(stack));
            }
            int servedDuringOutage = served.size() - servedAtStop;
            stack.startKafka();
            long restarted = System.nanoTime();
            Thread.sleep(5_000);
            loading.set(false);
            load.interrupt();
            load.join(10_000);

            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> spoolPendingBytes(stack) == 0);
            double spoolDrained = (System.nanoTime() - restarted) / 1e9;
            await().atMost(Duration.ofMinutes(1)).until(() -> billable(stack).size() >= served.size());
            Map<String, Integer> records = billable(stack);
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() -> billedRows() >= records.size());
            double billedAfter = (System.nanoTime() - restarted) / 1e9;
            Set<String> billed = billedIds();
            var lost = new HashSet<>(records.keySet());
            lost.removeAll(billed);
            var unknown = new HashSet<>(billed);
            unknown.removeAll(records.keySet());
            long resent = records.values().stream().mapToInt(n -> n - 1).sum();

            System.out.printf("[fault] Kafka stopped %d s under load | gateway served %d requests (%d during the outage, %d failed), "
                            + "spool peaked at %.0f bytes and drained %.1f s after Kafka returned, all billed after %.1f s | billable usage "
                            + "events produced %d, billed %d, lost %d, duplicated (billed twice) %d, records re-sent under the same id %d%n",
                    OUTAGE.toSeconds(), served.size(), servedDuringOutage, failed.get(), spoolMax, spoolDrained, billedAfter,
                    records.size(), billed.size(), lost.size(), billedRows() - billed.size(), resent);
            assertThat(failed.get()).as("requests that failed").isZero();
            assertThat(servedDuringOutage).as("served while Kafka was down").isGreaterThan(150);
            assertThat(spoolMax).as("usage waited in the spool").isPositive();
            assertThat(lost).as("produced, never billed").isEmpty();
            assertThat(unknown).as("billed, never produced").isEmpty();
            assertThat(billedRows()).as("each event billed once").isEqualTo(billed.size());
        }
    }

    private static HttpResponse<String> call(String method, String url, String token, String json) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        if (json != null) {
            request.header("content-type", "application/json");
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double spoolPendingBytes(DevStack stack) throws Exception {
        for (String line : call("GET", stack.gatewayUrl() + "/metrics", null, null).body().split("\n")) {
            if (line.startsWith("tollgate_gateway_spool_pending_bytes")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IllegalStateException("the gateway exports no tollgate_gateway_spool_pending_bytes");
    }

    /** Event id -> records on usage.v1, for the demo tenant's billable events. */
    private static Map<String, Integer> billable(DevStack stack) {
        var counts = new HashMap<String, Integer>();
        TopicReader.readAll(stack.kafkaBootstrapServers(), Topics.USAGE.name()).forEach(record -> {
            var event = EventCodec.decode(record.value());
            if ("demo".equals(event.tenantid()) && UsageBilling.of(event).isPresent()) {
                counts.merge(event.id(), 1, Integer::sum);
            }
        });
        return counts;
    }

    private static long billedRows() {
        var server = PostgresDatabase.Server.fromEnvironment();
        try (var connection = DriverManager.getConnection(server.jdbcUrl(DATABASE + "_billing"), server.user(), server.password());
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select count(*) from billed_usage")) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            return -1;
        }
    }

    private static Set<String> billedIds() throws Exception {
        var server = PostgresDatabase.Server.fromEnvironment();
        var ids = new HashSet<String>();
        try (var connection = DriverManager.getConnection(server.jdbcUrl(DATABASE + "_billing"), server.user(), server.password());
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select event_id from billed_usage")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }
}
