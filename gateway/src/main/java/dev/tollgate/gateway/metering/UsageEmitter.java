package dev.tollgate.gateway.metering;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes usage events to {@code usage.v1}, keyed by tenant, without ever blocking the caller:
 * an idempotent producer with {@code acks=all} batches them in the background. What happens when
 * Kafka is down (a local durable spool) is not built yet: today a send that fails after the
 * producer's own retries is logged and counted as lost ({@link #failedSends()}).
 */
public final class UsageEmitter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageEmitter.class);

    private final Producer<String, byte[]> producer;
    private final String source;
    private final AtomicLong failed = new AtomicLong();

    public UsageEmitter(String bootstrapServers, String instanceId) {
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                // send() runs on an event loop: it may wait at most this long (for buffer space).
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 100,
                ProducerConfig.CLIENT_ID_CONFIG, "gateway-" + instanceId),
                new StringSerializer(), new ByteArraySerializer());
        this.source = "/gateway/" + instanceId;
        warmUpMetadata();
    }

    /** Fetches the topic's metadata now, off the event loop, so that the first send need not wait for it. */
    private void warmUpMetadata() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                producer.partitionsFor(Topics.USAGE.name());
                return;
            } catch (RuntimeException e) {
                LOG.debug("waiting for Kafka metadata: {}", e.toString());
            }
        }
        LOG.warn("no metadata for {} yet; usage events will wait for Kafka", Topics.USAGE.name());
    }

    /** Sends one event; returns its id. Never blocks. */
    public String emit(EventType type, String subject, String traceparent, EventData data) {
        CloudEvent<EventData> event = CloudEvent.of(type, source, Instant.now(), subject, traceparent, data);
        try {
            producer.send(new ProducerRecord<>(Topics.USAGE.name(), data.tenantId(), EventCodec.encode(event)), (metadata, error) -> {
                if (error != null) {
                    failed.incrementAndGet();
                    LOG.error("usage event {} ({}) of tenant {} not delivered: {}", event.id(), type.typeName(), data.tenantId(), error.toString());
                }
            });
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            LOG.error("usage event {} ({}) of tenant {} not sent: {}", event.id(), type.typeName(), data.tenantId(), e.toString());
        }
        return event.id();
    }

    /** Events that could not be delivered. */
    public long failedSends() {
        return failed.get();
    }

    @Override
    public void close() {
        producer.close();
    }
}
