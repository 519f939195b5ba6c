package dev.tollgate.schemas.topic;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One Kafka topic as every module must see it. Replication is the deployment's business
 * (1 in the in-JVM broker, 3 in production), everything else is fixed here.
 *
 * @param retention null for "keep forever" ({@code retention.ms=-1})
 * @param keyMeaning what the record key is, for readers of the catalog
 */
public record TopicSpec(String name, int partitions, CleanupPolicy cleanupPolicy, Duration retention,
                        String keyMeaning, String purpose) {

    /** Kafka's {@code cleanup.policy}. */
    public enum CleanupPolicy {
        DELETE("delete"), COMPACT("compact");

        private final String kafkaValue;

        CleanupPolicy(String kafkaValue) {
            this.kafkaValue = kafkaValue;
        }

        /** The value of Kafka's {@code cleanup.policy} config. */
        public String kafkaValue() {
            return kafkaValue;
        }
    }

    public TopicSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cleanupPolicy, "cleanupPolicy");
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1");
        }
    }

    /** The topic-level configs to create it with (Kafka config names, string values). */
    public Map<String, String> configs() {
        var configs = new LinkedHashMap<String, String>();
        configs.put("cleanup.policy", cleanupPolicy.kafkaValue());
        configs.put("retention.ms", retention == null ? "-1" : Long.toString(retention.toMillis()));
        // Producers write with acks=all; a write must reach two replicas where there are three.
        configs.put("min.insync.replicas", "2");
        if (cleanupPolicy == CleanupPolicy.COMPACT) {
            // Readers that catch up on start-up want little to read: compact eagerly.
            configs.put("min.cleanable.dirty.ratio", "0.1");
            configs.put("segment.ms", Long.toString(Duration.ofHours(1).toMillis()));
            configs.put("delete.retention.ms", Long.toString(Duration.ofDays(1).toMillis()));
        }
        return Map.copyOf(configs);
    }

    /** {@link #configs()} with {@code min.insync.replicas} capped for a cluster of {@code brokers} brokers. */
    public Map<String, String> configsFor(int brokers) {
        var configs = new LinkedHashMap<>(configs());
        configs.put("min.insync.replicas", Integer.toString(Math.max(1, Math.min(2, brokers - 1))));
        return Map.copyOf(configs);
    }
}
