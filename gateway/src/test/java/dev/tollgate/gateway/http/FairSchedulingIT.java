package dev.tollgate.gateway.http;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RejectReason;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestRejected;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import dev.tollgate.testkit.upstream.RecordedRequest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Priority classes through the gateway (ADR 0023): a saturated pool serves an interactive tenant's
 * request before a batch tenant's queued ones, tells the model server each request's class in vLLM's
 * {@code priority} field (overwriting what the caller sent), and sheds the batch tenant's newest waiter
 * when the full queue gets interactive work: a 503 and a {@code request.rejected} event of reason
 * {@code CAPACITY} naming the class.
 */
@ExtendWith(KafkaExtension.class)
class FairSchedulingIT {
    private static final String BODY = "{\"model\":\"m\",\"max_tokens\":4,\"priority\":-1000,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}";

    @Test
    void interactiveWorkOvertakesQueuedBatchWorkAndShedsItWhenTheQueueIsFull(EmbeddedKafka kafka) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey batch = tenantInClass(kafka, "batch-" + suffix, "batch");
        ApiKeys.NewKey interactive = tenantInClass(kafka, "chat-" + suffix, "interactive");
        try (var upstream = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(8_000));
             var gateway = TestGateway.start(kafka.bootstrapServers(), UpstreamConfig.parse(
                     // A starvation bound longer than the test: the 8 s the first request runs would otherwise let batch go first.
                     "scheduling: {starvationMs: 60000}\n"
                             + "pools: {p: {maxQueuedPerTenant: 4, timeouts: {firstByteMs: 60000}, priority: {field: priority, values: {interactive: -10, standard: 0, batch: 10}},"
                             + " endpoints: [{url: \"" + upstream.baseUrl() + "\", maxConcurrency: 1, maxQueued: 4}]}}\n"
                             + "models: {m: {pool: p}}\n"))) {
            var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            var responses = new ArrayList<CompletableFuture<HttpResponse<String>>>();
            // Each request is sent once the previous one runs or waits; all arrive while the first runs (8 s).
            for (int i = 0; i < 5; i++) { // one runs, four wait: the queue is full
                responses.add(send(http, gateway, batch, "batch-" + i));
                int waiting = i;
                await().atMost(Duration.ofSeconds(5)).until(() -> upstream.runningRequests() == 1 && queued(http, gateway) == waiting);
            }
            var chat = send(http, gateway, interactive, "chat");
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(http, gateway) == 4 && responses.get(4).isDone());
            upstream.setBehaviour(FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(100)); // the rest need not wait 8 s each

            assertThat(chat.get().statusCode()).isEqualTo(200);
            List<Integer> statuses = responses.stream().map(CompletableFuture::join).map(HttpResponse::statusCode).toList();
            assertThat(statuses).as("the newest batch waiter gave its place to the interactive request")
                    .containsExactly(200, 200, 200, 200, 503);
            assertThat(responses.get(4).join().body()).contains("upstream_capacity");
            assertThat(responses.get(4).join().headers().firstValue("retry-after")).contains("1");

            List<String> served = upstream.requests().stream().map(FairSchedulingIT::content).toList();
            assertThat(served).as("the interactive request went right after the running one")
                    .containsExactly("batch-0", "chat", "batch-1", "batch-2", "batch-3");
            for (RecordedRequest request : upstream.requests()) {
                assertThat(new JsonObject(request.body()).getInteger("priority"))
                        .as("the pool's value for the class, never the caller's -1000")
                        .isEqualTo(content(request).equals("chat") ? -10 : 10);
            }

            var events = TopicReader.awaitRecord(kafka.bootstrapServers(), Topics.USAGE.name(),
                    r -> EventCodec.decode(r.value()).type().equals(EventType.USAGE_REQUEST_REJECTED.typeName())
                            && EventCodec.decode(r.value()).tenantid().equals("batch-" + suffix), Duration.ofSeconds(20))
                    .stream().map(r -> EventCodec.decode(r.value())).toList();
            assertThat(events.stream().map(e -> e.data()).filter(d -> d instanceof RequestRejected).map(d -> (RequestRejected) d)
                    .filter(r -> r.tenantId().equals("batch-" + suffix)).toList()).singleElement().satisfies(r -> {
                        assertThat(r.reason()).isEqualTo(RejectReason.CAPACITY);
                        assertThat(r.priorityClass()).isEqualTo("batch");
                        assertThat(r.error().httpStatus()).isEqualTo(503);
                    });
            assertThat(events.stream().map(e -> e.data()).filter(d -> d instanceof RequestAccepted).map(d -> (RequestAccepted) d)
                    .filter(a -> a.tenantId().equals("chat-" + suffix)).toList())
                    .singleElement().satisfies(a -> assertThat(a.priorityClass()).isEqualTo("interactive"));
        }
    }

    /** Requests waiting for pool p, from the gateway's /metrics: each request is sent once the previous one waits. */
    private static int queued(HttpClient http, TestGateway gateway) throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("tollgate_gateway_upstream_queued{pool=\"p\"}"))
                .map(l -> (int) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    private static CompletableFuture<HttpResponse<String>> send(HttpClient http, TestGateway gateway, ApiKeys.NewKey key, String content) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY.formatted(content))).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String content(RecordedRequest request) {
        return new JsonObject(request.body()).getJsonArray("messages").getJsonObject(0).getString("content");
    }

    private static ApiKeys.NewKey tenantInClass(EmbeddedKafka kafka, String tenant, String priorityClass) throws Exception {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        TestGateway.publish(kafka.bootstrapServers(), new TenantState(tenant, tenant, TenantState.Status.ACTIVE, null, "UTC", "USD",
                new Limits(null, null, null, null, null, null, priorityClass, null), null, null, 1, now));
        TestGateway.publish(kafka.bootstrapServers(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        return key;
    }
}
