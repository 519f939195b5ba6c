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
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** One slot and one queue place: of three simultaneous requests two are served and one gets 503 + Retry-After. */
@ExtendWith(KafkaExtension.class)
class CapacityQueueIT {

    @Test
    void requestsBeyondCapacityWaitInTheBoundedQueueAndBeyondItAreRefused(EmbeddedKafka kafka) throws Exception {
        String tenant = "queue-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey key = TestGateway.publishTenantWithKey(kafka.bootstrapServers(), tenant);
        var upstream = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(500));
        var config = UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + upstream.baseUrl()
                + "\", maxConcurrency: 1, maxQueued: 1}]}}\nmodels: {m: {pool: p}}\n");
        try (var gateway = TestGateway.start(kafka.bootstrapServers(), config)) {
            int port = URI.create(gateway.baseUrl()).getPort();
            var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).build();

            var responses = new ArrayList<CompletableFuture<HttpResponse<String>>>();
            for (int i = 0; i < 3; i++) {
                responses.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
                Thread.sleep(50);
            }

            List<Integer> statuses = responses.stream().map(CompletableFuture::join).map(HttpResponse::statusCode).sorted().toList();
            assertThat(statuses).containsExactly(200, 200, 503);
            HttpResponse<String> refused = responses.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 503)
                    .findFirst().orElseThrow();
            assertThat(refused.headers().firstValue("retry-after")).contains("1");
            assertThat(refused.body()).contains("upstream_capacity");
            assertThat(upstream.requests()).hasSize(2);
        } finally {
            upstream.close();
        }
    }
}
