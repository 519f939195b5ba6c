package dev.tollgate.projector;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

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
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), tenant, EventCodec.encodeState(new TenantState(tenant, "P",
                    TenantState.Status.ACTIVE, plan, "UTC", "USD", new Limits(null, null, 1_000_000L, null, null, null), null, null, 1, now)))).get();
            var priceList = new PriceListPublished("pl-" + tenant, plan, "USD", now.minus(Duration.ofDays(40)), true,
                    List.of(new ModelPrice("m", 1_000_000, 500_000, 2_000_000)));
            producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), priceList.priceListId(),
                    EventCodec.mapper().writeValueAsBytes(priceList))).get();
        }
        try (var projector = ProjectorApplication.start(kafka.bootstrapServers(), "projector-it-" + tenant, stateDir)) {
            await().atMost(Duration.ofSeconds(60)).until(projector::running);
            var streamed = CloudEvent.of(EventType.USAGE_TOKENS_STREAMED, "/gw", now, "r1", null,
                    new TokensStreamed("r1", tenant, "k1", "m", 1, 64));
            var done = CloudEvent.of(EventType.USAGE_REQUEST_COMPLETED, "/gw", now, "r1", null, new RequestFinished("r1", tenant, "k1",
                    "m", Endpoint.CHAT_COMPLETIONS, "p/e", new TokenUsage(400, 100, 256), 64, 900, 80L, null, null, null));
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                    new StringSerializer(), new ByteArraySerializer())) {
                for (var event : List.of(streamed, done, done)) { // the terminal event is delivered twice
                    producer.send(new ProducerRecord<>(Topics.USAGE.name(), tenant, EventCodec.encode(event))).get();
                }
            }

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

    private static QuotaState latest(EmbeddedKafka kafka, String key) {
        return TopicReader.readAll(kafka.bootstrapServers(), Topics.QUOTA_STATE.name()).stream()
                .filter(r -> r.key().equals(key)).map(r -> EventCodec.decodeState(r.value(), QuotaState.class))
                .reduce((a, b) -> b).orElse(null);
    }
}
