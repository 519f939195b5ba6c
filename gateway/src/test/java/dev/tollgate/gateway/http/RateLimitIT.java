package dev.tollgate.gateway.http;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RejectReason;
import dev.tollgate.schemas.usage.RequestRejected;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** A tenant's requests-per-minute limit through the gateway: OpenAI-style 429 and headers, and a never-charged rejection event. */
@ExtendWith(KafkaExtension.class)
class RateLimitIT {

    @Test
    void theRequestBeyondTheLimitGets429WithRetryAfterAndRateLimitHeaders(EmbeddedKafka kafka) throws Exception {
        String tenant = "rl-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey key = TestGateway.publishTenantWithKey(kafka.bootstrapServers(), tenant, new Limits(2L, 100_000L, null, null, null, null));
        try (var upstream = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT);
             var gateway = TestGateway.start(kafka.bootstrapServers(), UpstreamConfig.parse(
                     "pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\nmodels: {m: {pool: p}}\n"))) {
            var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            var request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                    .build();

            HttpResponse<String> first = http.send(request, HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> second = http.send(request, HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> third = http.send(request, HttpResponse.BodyHandlers.ofString());

            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).contains("2");
            assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).contains("1");
            assertThat(first.headers().firstValue("x-ratelimit-limit-tokens")).contains("100000");
            assertThat(second.statusCode()).isEqualTo(200);
            assertThat(third.statusCode()).isEqualTo(429);
            assertThat(third.headers().firstValue("retry-after")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 30L));
            assertThat(third.headers().firstValue("x-ratelimit-remaining-requests")).contains("0");
            assertThat(third.headers().firstValue("x-ratelimit-reset-requests")).hasValueSatisfying(v -> assertThat(v).endsWith("s"));
            assertThat(third.body()).contains("\"code\":\"rate_limit_exceeded\"");
            assertThat(upstream.requests()).as("the refused request never reached the upstream").hasSize(2);

            var rejected = TopicReader.awaitRecord(kafka.bootstrapServers(), Topics.USAGE.name(),
                            r -> EventCodec.decode(r.value()).type().equals(EventType.USAGE_REQUEST_REJECTED.typeName())
                                    && EventCodec.decode(r.value()).tenantid().equals(tenant), Duration.ofSeconds(20))
                    .stream().map(r -> EventCodec.decode(r.value())).filter(e -> e.tenantid().equals(tenant))
                    .filter(e -> e.data() instanceof RequestRejected).map(e -> (RequestRejected) e.data()).toList();
            assertThat(rejected).singleElement().satisfies(r -> {
                assertThat(r.reason()).isEqualTo(RejectReason.QUOTA);
                assertThat(r.quotaKind()).isEqualTo("rpm");
                assertThat(r.error().httpStatus()).isEqualTo(429);
            });
        }
    }
}
