package dev.tollgate.gateway.http;

import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.support.SmallDisk;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The usage spool cannot take more while Kafka is down (so it cannot free anything): its disk fills
 * up, or the outage outlasts what the spool may hold ({@code spoolMaxBytes}). Two gateways, one per
 * policy, each with its own spool. Fail-closed answers 503 {@code metering_unavailable} and loses
 * nothing; fail-open keeps serving and counts every event it could not keep; neither loses an event
 * silently, sends one twice or needs an operator once Kafka is back. Tracked by event id on
 * {@code usage.v1}.
 */
class GatewayDiskFullIT {
    /** 1,000 queued records: while the disk is full, 100 wait in memory (a tenth), then fail-open loses (and counts). */
    private static final Spool.Options OPTIONS = new Spool.Options(1_000, 64L << 20, 20);
    private static final String BODY = "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";

    @Test
    void aFullSpoolDiskRefusesRequestsOrCountsTheirEventsAndNeverLosesOneSilently(@TempDir Path temp) throws Exception {
        try (SmallDisk closedDisk = SmallDisk.mount(temp.resolve("closed-disk"), "256k");
             SmallDisk openDisk = SmallDisk.mount(temp.resolve("open-disk"), "256k")) {
            Outcome outcome = exhaustTheSpools(temp, OPTIONS, closedDisk.root().resolve("spool"), openDisk.root().resolve("spool"),
                    "tollgate_gateway_spool_disk_failing", 1, () -> {
                        closedDisk.fillLeaving(24 * 1024);
                        openDisk.fillLeaving(24 * 1024);
                    });
            assertThat(outcome.closedDiskFailing()).as("the fail-closed gateway saw its disk fail").isTrue();
            System.out.printf("[fault] spool disk full (256 KiB, Kafka down) | %s%n", outcome);
        }
    }

    /**
     * An outage longer than the spool holds, scaled down: a 32 KiB limit instead of 1 GiB. Fail-closed
     * refuses from 90 % of it, so the events of requests already in flight still fit.
     */
    @Test
    void anOutageLongerThanTheSpoolHoldsRefusesRequestsOrCountsTheirEventsAndNeverLosesOneSilently(@TempDir Path temp) throws Exception {
        var small = new Spool.Options(1_000, 32 * 1024, 20);
        Outcome outcome = exhaustTheSpools(temp, small, temp.resolve("closed-spool"), temp.resolve("open-spool"),
                "tollgate_gateway_spool_pending_bytes", 0.9 * small.spoolMaxBytes(), () -> {});
        assertThat(outcome.closedDiskFailing()).as("the disk never failed: the spool's own limit refused").isFalse();
        System.out.printf("[fault] outage longer than the spool holds (32 KiB limit, Kafka down) | %s%n", outcome);
    }

    record Outcome(int closedServed, int refused, int closedEvents, boolean closedDiskFailing, int openServed, int openEvents, long openLost) {
        @Override
        public String toString() {
            return String.format("fail-closed: %d served, %d refused 503, %d events, 0 lost, 0 duplicated | fail-open: %d served, "
                    + "%d events delivered, %d counted lost, 0 uncounted, 0 duplicated", closedServed, refused, closedEvents, openServed,
                    openEvents, openLost);
        }
    }

    /**
     * Two gateways (fail-closed, fail-open) serve a little, Kafka stops, {@code exhaust} runs, each gets
     * 150 requests; then Kafka returns, both spools drain and every event is accounted for by id.
     *
     * @param fullMetric a gauge of the fail-open gateway's /metrics that must reach {@code fullValue} at some point while its
     *                   spool is exhausted
     */
    private static Outcome exhaustTheSpools(Path temp, Spool.Options options, Path closedSpool, Path openSpool, String fullMetric,
                                            double fullValue, ThrowingRunnable exhaust) throws Exception {
        int kafkaPort;
        try (var socket = new ServerSocket(0)) {
            kafkaPort = socket.getLocalPort();
        }
        EmbeddedKafka kafka = EmbeddedKafka.start(temp.resolve("kafka"), kafkaPort, false);
        String bootstrap = kafka.bootstrapServers();
        ApiKeys.NewKey closedKey = TestGateway.publishTenantWithKey(bootstrap, "spool-closed");
        ApiKeys.NewKey openKey = TestGateway.publishTenantWithKey(bootstrap, "spool-open");
        var http = HttpClient.newHttpClient();
        try (FakeUpstream upstream = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT.withCompletionTokens(4))) {
            var config = UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\nmodels: {fake-chat: {pool: p}}\n");
            try (TestGateway closed = TestGateway.start(bootstrap, config, options, closedSpool, true);
                 TestGateway open = TestGateway.start(bootstrap, config, options, openSpool, false)) {
                int closedServed = 0;
                int openServed = 0;
                for (int i = 0; i < 5; i++) {
                    closedServed += send(http, closed, closedKey).statusCode() == 200 ? 1 : 0;
                    openServed += send(http, open, openKey).statusCode() == 200 ? 1 : 0;
                }
                assertThat(closedServed + openServed).isEqualTo(10);

                kafka.close();
                exhaust.run();
                int refused = 0;
                boolean sawFullMetric = false;
                boolean closedDiskFailing = false;
                for (int i = 0; i < 150; i++) {
                    HttpResponse<String> answer = send(http, closed, closedKey);
                    if (answer.statusCode() == 200) {
                        closedServed++;
                    } else {
                        assertThat(answer.statusCode()).isEqualTo(503);
                        assertThat(answer.body()).contains("\"code\":\"metering_unavailable\"");
                        assertThat(answer.headers().firstValue("retry-after")).isPresent();
                        refused++;
                    }
                    closedDiskFailing |= closed.usage().spoolDiskFailing();
                    assertThat(send(http, open, openKey).statusCode()).as("fail-open keeps serving").isEqualTo(200);
                    openServed++;
                    sawFullMetric |= metrics(http, open).lines().filter(line -> line.startsWith(fullMetric + " "))
                            .anyMatch(line -> Double.parseDouble(line.substring(fullMetric.length() + 1)) >= fullValue);
                }
                assertThat(refused).as("fail-closed refuses once the spool cannot take more").isGreaterThan(100);
                assertThat(sawFullMetric).as("/metrics shows it: %s >= %s", fullMetric, fullValue).isTrue();
                long openLost = open.usage().lostEvents();
                assertThat(openLost).as("fail-open counts what it cannot keep").isPositive();
                assertThat(closed.usage().lostEvents()).as("fail-closed loses nothing").isZero();
                assertThat(closed.usage().pendingBytes()).as("the spool held no more than its limit").isLessThanOrEqualTo(options.spoolMaxBytes());

                kafka = EmbeddedKafka.start(temp.resolve("kafka"), kafkaPort, false);
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() ->
                        closed.usage().pendingBytes() == 0 && open.usage().pendingBytes() == 0
                                && !closed.usage().spoolDiskFailing() && !open.usage().spoolDiskFailing());
                assertThat(send(http, closed, closedKey).statusCode()).as("fail-closed serves again, no operator").isEqualTo(200);
                closedServed++;
                await().atMost(Duration.ofSeconds(30)).until(() -> closed.usage().pendingBytes() == 0);

                List<CloudEvent<EventData>> events = TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream()
                        .map(r -> EventCodec.decode(r.value())).toList();
                List<String> closedIds = ids(events, "spool-closed");
                List<String> openIds = ids(events, "spool-open");
                assertThat(closedIds).as("fail-closed: accepted + completed of every served request, each once").doesNotHaveDuplicates()
                        .hasSize(2 * closedServed);
                assertThat(openIds).as("fail-open: no event twice").doesNotHaveDuplicates();
                assertThat(openIds.size() + openLost).as("fail-open: every event either on usage.v1 or counted lost").isEqualTo(2L * openServed);
                return new Outcome(closedServed, refused, closedIds.size(), closedDiskFailing, openServed, openIds.size(), openLost);
            }
        } finally {
            kafka.close();
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static List<String> ids(List<CloudEvent<EventData>> events, String tenant) {
        return events.stream().filter(e -> e.tenantid().equals(tenant)).map(CloudEvent::id).toList();
    }

    private static HttpResponse<String> send(HttpClient http, TestGateway gateway, ApiKeys.NewKey key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String metrics(HttpClient http, TestGateway gateway) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
