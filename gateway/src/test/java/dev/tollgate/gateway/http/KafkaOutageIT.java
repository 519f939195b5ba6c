package dev.tollgate.gateway.http;

import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka goes away under load: the gateway keeps serving from memory, its spool keeps every usage
 * event, and when Kafka returns each event arrives exactly once by id. Uses its own broker, which it
 * stops and restarts (the shared one serves other tests).
 */
class KafkaOutageIT {
    private static final Duration OUTAGE = Duration.ofSeconds(30);

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void publish(String bootstrap, String topic, StateRecord record) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
        }
    }

    @Test
    void theGatewayServesThroughAKafkaOutageAndLosesNoUsageEvent(@TempDir Path kafkaDir, @TempDir Path spoolDir) throws Exception {
        int kafkaPort = freePort();
        EmbeddedKafka kafka = EmbeddedKafka.start(kafkaDir, kafkaPort, false);
        String bootstrap = kafka.bootstrapServers();
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(bootstrap, Topics.TENANTS_STATE.name(), new TenantState("outage", "O", TenantState.Status.ACTIVE, null, "UTC", "USD",
                Limits.NONE, null, null, 1, now));
        publish(bootstrap, Topics.KEYS_STATE.name(), new KeyState(key.keyId(), "outage", "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        FakeUpstream upstream = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT.withCompletionTokens(4));
        Vertx vertx = Vertx.vertx();
        StateDirectory state = StateDirectory.start(bootstrap);
        UsageEmitter usage = new UsageEmitter(bootstrap, "outage-it", spoolDir, new Spool.Options(10_000, 64L << 20, 20), false);
        try {
            var config = UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\nmodels: {fake-chat: {pool: p}}\n");
            int port = new GatewayServer(vertx, state, new EndpointPool(config), usage).listen("127.0.0.1", 0)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
            var http = HttpClient.newHttpClient();
            var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).build();
            await().atMost(Duration.ofSeconds(30)).until(state::ready);

            int served = 0;
            for (int i = 0; i < 10; i++) {
                served += http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200 ? 1 : 0;
            }
            kafka.close();
            long outageStart = System.nanoTime();
            int servedDuringOutage = 0;
            while (System.nanoTime() - outageStart < OUTAGE.toNanos()) {
                servedDuringOutage += http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200 ? 1 : 0;
                Thread.sleep(100);
            }
            assertThat(usage.pendingBytes()).as("events wait in the spool while Kafka is down").isPositive();
            kafka = EmbeddedKafka.start(kafkaDir, kafkaPort, false);

            int requests = served + servedDuringOutage;
            assertThat(served).isEqualTo(10);
            assertThat(servedDuringOutage).as("every request during the outage was served").isGreaterThan(100);
            await().atMost(Duration.ofSeconds(60)).until(() -> usage.pendingBytes() == 0);
            List<CloudEvent<EventData>> events = TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream()
                    .map(r -> EventCodec.decode(r.value())).filter(e -> e.tenantid().equals("outage")).toList();
            List<String> ids = events.stream().map(CloudEvent::id).toList();
            assertThat(events.stream().filter(e -> e.type().endsWith("request.completed.v1")).map(CloudEvent::id).distinct().count())
                    .as("every request completed, none mistaken for a cancellation").isEqualTo(requests);
            assertThat(ids.stream().distinct().count()).as("accepted + completed per request, none lost").isEqualTo(2L * requests);
            System.out.printf("[fault] gateway alone, Kafka stopped 30 s | %d requests (%d during a %d s outage), %d events, %d distinct, %d duplicates, %d lost%n",
                    requests, servedDuringOutage, OUTAGE.toSeconds(), ids.size(), ids.stream().distinct().count(),
                    ids.size() - ids.stream().distinct().count(), usage.lostEvents());
            assertThat(usage.lostEvents()).isZero();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            state.close();
            usage.close();
            upstream.close();
            kafka.close();
        }
    }
}
