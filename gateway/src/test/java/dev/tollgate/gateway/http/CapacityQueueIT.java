package dev.tollgate.gateway.http;

import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** One slot and one queue place: of three simultaneous requests two are served and one gets 503 + Retry-After. */
@ExtendWith(KafkaExtension.class)
class CapacityQueueIT {

    @Test
    void requestsBeyondCapacityWaitInTheBoundedQueueAndBeyondItAreRefused(EmbeddedKafka kafka) throws Exception {
        String tenant = "queue-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        for (StateRecord record : List.<StateRecord>of(
                new TenantState(tenant, "Q", TenantState.Status.ACTIVE, null, "UTC", "USD", Limits.NONE, null, null, 1, now),
                new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(key.hash(), null)),
                        List.of(), List.of(), null, null, 1, now))) {
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                    new StringSerializer(), new ByteArraySerializer())) {
                String topic = record instanceof KeyState ? Topics.KEYS_STATE.name() : Topics.TENANTS_STATE.name();
                producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
            }
        }
        var upstream = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(500));
        Vertx vertx = Vertx.vertx();
        StateDirectory state = StateDirectory.start(kafka.bootstrapServers());
        var usage = new UsageEmitter(kafka.bootstrapServers(), "queue-it", Files.createTempDirectory("spool"), Spool.Options.DEFAULT, false);
        try {
            var config = UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + upstream.baseUrl()
                    + "\", maxConcurrency: 1, maxQueued: 1}]}}\nmodels: {m: {pool: p}}\n");
            int port = new GatewayServer(vertx, state, new EndpointPool(config), usage).listen("127.0.0.1", 0)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
            await().atMost(Duration.ofSeconds(30)).until(state::ready);
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
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            state.close();
            usage.close();
            upstream.close();
        }
    }
}
