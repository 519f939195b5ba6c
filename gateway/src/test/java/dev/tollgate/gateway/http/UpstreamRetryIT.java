package dev.tollgate.gateway.http;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import dev.tollgate.testkit.upstream.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Before the first byte reaches the client, a failing, unreachable or silent endpoint is replaced by another. */
@ExtendWith(KafkaExtension.class)
class UpstreamRetryIT {

    @Test
    void aFiveHundredARefusedConnectionAndASilentEndpointAreEachRetriedElsewhere(EmbeddedKafka kafka) throws Exception {
        String tenant = "retry-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey key = TestGateway.publishTenantWithKey(kafka.bootstrapServers(), tenant);
        // A port bound but not listening refuses connections, and stays ours for the whole test: a port taken from a
        // closed ServerSocket was once handed straight to the "failing" upstream started next, which then got two tries.
        var dead = new Socket();
        dead.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int deadPort = dead.getLocalPort();
        var failing = FakeUpstream.start(0, List.of("m"), new FakeBehaviour(0, 0, 16, 500, -1, 0, false, Integer.MAX_VALUE));
        var silent = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(10_000));
        var healthy = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT);
        var config = UpstreamConfig.parse("""
                pools:
                  a: {endpoints: [{url: "%s"}, {url: "http://127.0.0.1:%d"}, {url: "%s"}]}
                  b: {timeouts: {firstByteMs: 300}, endpoints: [{url: "%s"}, {url: "%s"}]}
                models: {m: {pool: a}, slow: {pool: b, upstreamModel: m}}
                """.formatted(failing.baseUrl(), deadPort, healthy.baseUrl(), silent.baseUrl(), healthy.baseUrl()));
        try (var gateway = TestGateway.start(kafka.bootstrapServers(), config)) {
            int port = URI.create(gateway.baseUrl()).getPort();
            var http = HttpClient.newHttpClient();

            HttpResponse<String> viaRetries = http.send(chat(port, key, "m"), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> afterTimeout = http.send(chat(port, key, "slow"), HttpResponse.BodyHandlers.ofString());

            assertThat(viaRetries.statusCode()).as(viaRetries.body()).isEqualTo(200);
            assertThat(failing.requests()).singleElement().extracting(RecordedRequest::outcome).isEqualTo(RecordedRequest.Outcome.FAILED);
            assertThat(afterTimeout.statusCode()).as(afterTimeout.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> silent.cancelledRequests().size() == 1);
            assertThat(healthy.requests()).hasSize(2);
            await().atMost(Duration.ofSeconds(20)).until(() -> finished(kafka, tenant).size() == 2);
            assertThat(finished(kafka, tenant)).allSatisfy(done -> {
                assertThat(done.upstream()).isEqualTo((done.model().equals("m") ? "a/" : "b/") + healthy.baseUrl());
                assertThat(done.usage().completionTokens()).isEqualTo(16);
                assertThat(done.cancelReason()).isNull();
                assertThat(done.error()).isNull();
            });
        } finally {
            dead.close();
            failing.close();
            silent.close();
            healthy.close();
        }
    }

    private static List<RequestFinished> finished(EmbeddedKafka kafka, String tenant) {
        return TopicReader.readAll(kafka.bootstrapServers(), Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                .filter(e -> e.tenantid().equals(tenant) && e.data() instanceof RequestFinished)
                .map(e -> (RequestFinished) e.data()).toList();
    }

    private static HttpRequest chat(int port, ApiKeys.NewKey key, String model) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                .build();
    }
}
