package dev.tollgate.ledger.publish;

import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the end of {@code ledger.events.v1}: the ids of the events it already holds
 * ({@link #EVENT_ID_HEADER} on every record). The publisher sends an event and then commits its
 * tracking token; a crash in between used to send that event again after the restart. Reading the
 * tail first tells it which events the topic already holds. Only the last records of each
 * partition matter: with one segment and batches of one event, what was sent without its token
 * committed is among the newest records of its partition. Ids, not store positions: a position
 * means nothing outside its own event store, an event id (a UUID) is the event.
 */
final class PublishedTail {
    /** Header with the event's id (the event store's identifier, the CloudEvent id). */
    static final String EVENT_ID_HEADER = "tollgate-event-id";
    private static final int TAIL_RECORDS = 50;

    private final String bootstrapServers;

    PublishedTail(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    /** The ids of the events at the end of each partition. */
    Set<String> recentEventIds(Duration timeout) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.CLIENT_ID_CONFIG, "ledger-publisher-tail"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(Topics.LEDGER_EVENTS.name(), timeout)) {
                partitions.add(new TopicPartition(info.topic(), info.partition()));
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            for (TopicPartition partition : partitions) {
                consumer.seek(partition, Math.max(begin.get(partition), end.get(partition) - TAIL_RECORDS));
            }
            var ids = new HashSet<String>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!caughtUp(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read the end of " + Topics.LEDGER_EVENTS.name() + " within " + timeout);
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    Header id = record.headers().lastHeader(EVENT_ID_HEADER);
                    if (id != null) {
                        ids.add(new String(id.value(), StandardCharsets.UTF_8));
                    }
                }
            }
            return ids;
        }
    }

    private static boolean caughtUp(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (var entry : end.entrySet()) {
            if (consumer.position(entry.getKey()) < entry.getValue()) {
                return false;
            }
        }
        return true;
    }
}
