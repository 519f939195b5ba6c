package dev.tollgate.audit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads topics from the beginning up to their end at the start of the read, assigning partitions
 * directly: no consumer group, so no offset is ever committed and the live consumers are untouched.
 */
public final class KafkaSource implements LogSource {
    private final String bootstrapServers;

    public KafkaSource(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    private KafkaConsumer<String, byte[]> consumer() {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.CLIENT_ID_CONFIG, "tollgate-audit", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024), new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        var partitions = new ArrayList<TopicPartition>();
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        return partitions;
    }

    @Override
    public long size(String topic) {
        try (var consumer = consumer()) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            long size = 0;
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            for (var end : consumer.endOffsets(partitions).entrySet()) {
                size += end.getValue() - begin.get(end.getKey());
            }
            return size;
        }
    }

    @Override
    public void read(String topic, Consumer<SourceRecord> sink, Progress progress) {
        try (var consumer = consumer()) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long done = 0;
            while (!caughtUp(consumer, end)) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        sink.accept(new SourceRecord(r.topic(), r.partition(), r.offset(), r.key(), r.value()));
                        done++;
                    }
                }
                if (progress != null) {
                    progress.update(done);
                }
            }
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
