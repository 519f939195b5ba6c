package dev.tollgate.gateway.http;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Load-aware routing (ADR 0024) against model servers that report their load as vLLM does: one
 * server is kept busy by traffic that never passed this gateway (another replica's), the gateway reads
 * it from the server's /metrics and sends its own requests to the idle one, which least-outstanding
 * (the gateway's own count: zero on both) would have split evenly.
 */
@ExtendWith(KafkaExtension.class)
class LoadAwareRoutingIT {

    @Test
    void requestsGoToTheServerThatReportsItselfIdleNotTheOneBusyWithAnotherGatewaysWork(EmbeddedKafka kafka) throws Exception {
        ApiKeys.NewKey key = TestGateway.publishTenantWithKey(kafka.bootstrapServers(), "load-" + UUID.randomUUID().toString().substring(0, 8));
        FakeBehaviour slow = FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(6_000).withMaxRunningRequests(4);
        try (var busy = FakeUpstream.start(0, List.of("m"), slow);
             var idle = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(100));
             var gateway = TestGateway.start(kafka.bootstrapServers(), UpstreamConfig.parse(
                     "pools: {p: {policy: load-aware, loadMetrics: {intervalMs: 100, staleMs: 10000},"
                             + " endpoints: [{url: \"" + busy.baseUrl() + "\"}, {url: \"" + idle.baseUrl() + "\"}]}}\n"
                             + "models: {m: {pool: p}}\n"))) {
            var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String body = "{\"model\":\"m\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
            var elsewhere = new ArrayList<CompletableFuture<HttpResponse<String>>>();
            for (int i = 0; i < 6; i++) { // 4 running and 2 waiting on the busy server, sent around the gateway
                elsewhere.add(http.sendAsync(HttpRequest.newBuilder(URI.create(busy.baseUrl() + "/v1/chat/completions"))
                        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            await().atMost(Duration.ofSeconds(2)).until(() -> busy.runningRequests() == 4);
            Thread.sleep(1_000); // several reads of the servers' /metrics (every 100 ms), even on a loaded machine

            for (int i = 0; i < 6; i++) {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                        .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).isEqualTo(200);
            }

            assertThat(idle.requests()).as("every request the gateway sent went to the idle server").hasSize(6);
            assertThat(busy.requests()).as("only the other gateway's six").hasSize(6);
            elsewhere.forEach(CompletableFuture::join);
        }
    }
}
