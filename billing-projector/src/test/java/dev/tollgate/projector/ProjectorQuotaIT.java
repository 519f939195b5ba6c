package dev.tollgate.projector;

import dev.tollgate.projector.stream.ProjectorMetrics;
import dev.tollgate.projector.stream.ProjectorSettings;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The projector against the in-JVM Kafka with exactly-once v2: usage events (one re-delivered) and
 * the ledger's tenant and price-list state in, quota state with tokens and spend out.
 */
@ExtendWith(KafkaExtension.class)
class ProjectorQuotaIT {

    @Test
    void usageBecomesQuotaStateWithSpendAtThePriceInForceCountingARedeliveredEventOnce(EmbeddedKafka kafka, @TempDir Path stateDir)
            throws Exception {
        String tenant = "proj-" + UUID.randomUUID().toString().substring(0, 8);
        String plan = "plan-" + tenant;
        Instant now = Instant.now();
        seedTenant(kafka.bootstrapServers(), tenant, plan, now);
        try (var projector = ProjectorApplication.start(kafka.bootstrapServers(), "projector-it-" + tenant, stateDir)) {
            await().atMost(Duration.ofSeconds(60)).until(projector::running);
            var streamed = CloudEvent.of(EventType.USAGE_TOKENS_STREAMED, "/gw", now, "r1", null,
                    new TokensStreamed("r1", tenant, "k1", "m", 1, 64));
            var done = completed(tenant, "r1", now, 64);
            send(kafka.bootstrapServers(), tenant, List.of(streamed, done, done)); // the terminal event is delivered twice

            String key = QuotaState.stateKey(tenant, null, QuotaState.Window.BILLING_PERIOD);
            await().atMost(Duration.ofSeconds(60)).until(() -> latest(kafka, key) != null && latest(kafka, key).usedTokens() == 500);
            Thread.sleep(1500); // a double count would show up in the next emission
            QuotaState period = latest(kafka, key);
            assertThat(period.usedTokens()).isEqualTo(500);
            // 144 uncached x 1.0 + 256 cached x 0.5 + 100 completion x 2.0 = 472 micros
            assertThat(period.usedSpendMicros()).isEqualTo(472);
            assertThat(latest(kafka, QuotaState.stateKey(tenant, "k1", QuotaState.Window.DAY)).usedTokens()).isEqualTo(500);
        }
    }

    /**
     * Kafka away for longer than a send may block while the projector holds quota states to emit: the
     * emission's send fails and takes its stream thread down. Kafka Streams' default answer shuts the
     * whole client down for good (billing stopped until a restart: KafkaOutageEndToEndIT in CI); the
     * projector replaces the thread instead, and bills what arrives once Kafka is back.
     */
    @Test
    void aKafkaOutageLongerThanASendMayBlockDoesNotStopTheProjector(@TempDir Path temp) throws Exception {
        int port;
        try (var socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        EmbeddedKafka kafka = EmbeddedKafka.start(temp.resolve("kafka"), port, false);
        String tenant = "outage-" + UUID.randomUUID().toString().substring(0, 8);
        Instant now = Instant.now();
        try {
            seedTenant(kafka.bootstrapServers(), tenant, "plan-" + tenant, now);
            var replaced = new AtomicInteger();
            var metrics = new ProjectorMetrics() {
                @Override
                public void streamThreadReplaced() {
                    replaced.incrementAndGet();
                }
            };
            // Quota states go out every 20 s, so those of the first request are still waiting when Kafka stops; a send
            // blocks for at most 2 s (60 s by default, as in the CI run that found this).
            var settings = new ProjectorSettings(ProjectorSettings.DEFAULT_DEDUP_HORIZON, Duration.ofSeconds(20),
                    ProjectorSettings.DEFAULT_GRACE, ProjectorSettings.DEFAULT_MINUTE_RETENTION);
            try (var projector = ProjectorApplication.start(kafka.bootstrapServers(), "projector-outage-" + tenant, temp.resolve("state"),
                    settings, null, 0, Map.of(StreamsConfig.producerPrefix(ProducerConfig.MAX_BLOCK_MS_CONFIG), 2_000), metrics)) {
                await().atMost(Duration.ofSeconds(60)).until(projector::running);
                send(kafka.bootstrapServers(), tenant, List.of(completed(tenant, "r1", now, 0)));
                String bootstrap = kafka.bootstrapServers();
                await().atMost(Duration.ofSeconds(30)).until(() -> TopicReader.readAll(bootstrap, Topics.USAGE_BILLED.name()).stream()
                        .anyMatch(r -> tenant.equals(r.key())));

                kafka.close();
                // The emission's send fails: the thread is replaced, or (Kafka Streams' default) the client goes to ERROR.
                await().atMost(Duration.ofSeconds(60)).until(() -> replaced.get() > 0
                        || Set.of(KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.ERROR).contains(projector.streams().state()));
                kafka = EmbeddedKafka.start(temp.resolve("kafka"), port, false);
                send(kafka.bootstrapServers(), tenant, List.of(completed(tenant, "r2", now.plusSeconds(1), 0)));

                String key = QuotaState.stateKey(tenant, null, QuotaState.Window.BILLING_PERIOD);
                EmbeddedKafka restarted = kafka;
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> latest(restarted, key) != null && latest(restarted, key).usedTokens() == 1_000);
                assertThat(projector.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
                System.out.printf("[fault] projector: Kafka stopped with quota states to emit (sends block 2 s): %d stream thread(s) "
                        + "replaced, the client kept running, usage after Kafka returned counted (1,000 tokens)%n", replaced.get());
            }
        } finally {
            kafka.close();
        }
    }

    private static void seedTenant(String bootstrap, String tenant, String plan, Instant now) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), tenant, EventCodec.encodeState(new TenantState(tenant, "P",
                    TenantState.Status.ACTIVE, plan, "UTC", "USD", new Limits(null, null, 1_000_000L, null, null, null), null, null, 1, now)))).get();
            var priceList = new PriceListPublished("pl-" + tenant, plan, "USD", now.minus(Duration.ofDays(40)), true,
                    List.of(new ModelPrice("m", 1_000_000, 500_000, 2_000_000)));
            producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), priceList.priceListId(),
                    EventCodec.mapper().writeValueAsBytes(priceList))).get();
        }
    }

    /**
     * A completed request of 500 tokens (144 uncached and 256 cached prompt, 100 completion), {@code streamed} of
     * them already counted by tokens.streamed events.
     */
    private static CloudEvent<RequestFinished> completed(String tenant, String requestId, Instant time, long streamed) {
        return CloudEvent.of(EventType.USAGE_REQUEST_COMPLETED, "/gw", time, requestId, null, new RequestFinished(requestId, tenant, "k1",
                "m", Endpoint.CHAT_COMPLETIONS, "p/e", new TokenUsage(400, 100, 256), streamed, 900, 80L, null, null, null));
    }

    private static void send(String bootstrap, String tenant, List<? extends CloudEvent<?>> events) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            for (var event : events) {
                producer.send(new ProducerRecord<>(Topics.USAGE.name(), tenant, EventCodec.encode(event))).get();
            }
        }
    }

    private static QuotaState latest(EmbeddedKafka kafka, String key) {
        return TopicReader.readAll(kafka.bootstrapServers(), Topics.QUOTA_STATE.name()).stream()
                .filter(r -> r.key().equals(key)).map(r -> EventCodec.decodeState(r.value(), QuotaState.class))
                .reduce((a, b) -> b).orElse(null);
    }
}
