package dev.tollgate.projector.deadletter;

import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.schemas.topic.DeadLetterHeaders;
import dev.tollgate.schemas.topic.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends the records a plain consumer of this service cannot use to {@code deadletter.v1}: key and
 * value unchanged, the original headers kept, plus why, from where and by whom
 * ({@link DeadLetterHeaders}). {@link #send} returns only once the broker has the dead letter, so a
 * consumer that commits its offset after it never loses a record; a crash in between writes the
 * same dead letter again (same origin header), never drops it. Inside the Kafka Streams topology the
 * usage parser dead-letters through the topology's own exactly-once sink instead.
 */
@Component
public class DeadLetters implements DisposableBean {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    private final BillingProperties properties;
    private final MeterRegistry registry;
    private volatile KafkaProducer<byte[], byte[]> producer;

    public DeadLetters(BillingProperties properties, MeterRegistry registry) {
        this.properties = properties;
        this.registry = registry;
        for (String topic : List.of(Topics.USAGE_BILLED.name(), Topics.QUOTA_ALERTS.name(), Topics.TENANTS_STATE.name(),
                Topics.KEYS_STATE.name(), Topics.PRICELISTS_STATE.name(), Topics.QUOTA_STATE.name())) {
            counter(topic); // from zero, so that an alert can read the first one
        }
    }

    private Counter counter(String topic) {
        return Counter.builder("tollgate.deadletters").description("Records refused by a consumer and written to deadletter.v1")
                .tag("topic", topic).register(registry);
    }

    /**
     * Writes {@code record} as a dead letter and waits for the broker's acknowledgement.
     *
     * @param consumer who refuses it
     * @param reason   why; must not quote secrets (decoder messages name fields, not values)
     * @throws DeadLetterException when the dead letter could not be written: do not commit past the record
     */
    public void send(ConsumerRecord<String, byte[]> record, String consumer, String reason) {
        var headers = new RecordHeaders(record.headers().toArray());
        headers.add(DeadLetterHeaders.ERROR, String.valueOf(reason).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.ORIGIN, (record.topic() + "/" + record.partition() + "/" + record.offset()).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.CONSUMER, consumer.getBytes(StandardCharsets.UTF_8));
        byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
        try {
            producer().send(new ProducerRecord<>(Topics.DEAD_LETTER.name(), null, record.timestamp(), key, record.value(), headers))
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new DeadLetterException("could not dead-letter " + record.topic() + "/" + record.partition() + "/" + record.offset(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeadLetterException("interrupted while dead-lettering", e);
        }
        counter(record.topic()).increment();
        LOG.warn("{} refused {}/{}/{} (key {}): {}; written to {}", consumer, record.topic(), record.partition(), record.offset(),
                record.key(), reason, Topics.DEAD_LETTER.name());
    }

    /** One dead letter as operators see it: where it came from and why, never its value (it may hold a tenant's data). */
    public record Letter(int partition, long offset, Instant time, String origin, String consumer, String error, String key) {}

    /** How many dead letters the topic holds (all partitions, what retention kept) and the latest ones. */
    public record Summary(long count, List<Letter> latest) {}

    /** Reads {@code deadletter.v1}: its size from the partitions' offsets, and up to {@code latest} of its newest letters. */
    public Summary summary(int latest) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, "deadletters-reader-" + properties.instanceId(), ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.DEAD_LETTER.name(), Duration.ofSeconds(5)).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, Duration.ofSeconds(5));
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(5));
            long count = partitions.stream().mapToLong(p -> end.get(p) - begin.get(p)).sum();
            var letters = new ArrayList<Letter>();
            if (latest > 0 && count > 0) {
                consumer.assign(partitions);
                partitions.forEach(p -> consumer.seek(p, Math.max(begin.get(p), end.get(p) - latest)));
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        letters.add(new Letter(r.partition(), r.offset(), Instant.ofEpochMilli(r.timestamp()), header(r, DeadLetterHeaders.ORIGIN),
                                header(r, DeadLetterHeaders.CONSUMER), header(r, DeadLetterHeaders.ERROR), r.key()));
                    }
                }
            }
            letters.sort(Comparator.comparing(Letter::time).reversed());
            return new Summary(count, letters.subList(0, Math.min(latest, letters.size())));
        }
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private KafkaProducer<byte[], byte[]> producer() {
        KafkaProducer<byte[], byte[]> current = producer;
        if (current == null) {
            synchronized (this) {
                current = producer;
                if (current == null) { // created on first use: most runs never dead-letter anything
                    current = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                            ProducerConfig.CLIENT_ID_CONFIG, "deadletters-" + properties.instanceId(),
                            ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 25_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000),
                            new ByteArraySerializer(), new ByteArraySerializer());
                    producer = current;
                }
            }
        }
        return current;
    }

    @Override
    public void destroy() {
        KafkaProducer<byte[], byte[]> current = producer;
        if (current != null) {
            current.close(Duration.ofSeconds(5));
        }
    }

    /** The dead letter was not written; the caller must not commit past the record. */
    public static final class DeadLetterException extends RuntimeException {
        DeadLetterException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
