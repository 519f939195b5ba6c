package dev.tollgate.testkit.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/** Where a consumer group stands, for tests that must wait until a service has read what they wrote. */
public final class ConsumerGroups {
    private ConsumerGroups() {}

    /** Waits until {@code group} has committed the end of every partition of {@code topic}; fails after {@code timeout}. */
    public static void awaitConsumed(String bootstrapServers, String group, String topic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            while (true) {
                if (consumed(admin, group, topic)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("consumer group " + group + " has not read " + topic + " to its end within " + timeout);
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the offsets of " + group, e);
        }
    }

    private static boolean consumed(Admin admin, String group, String topic) throws InterruptedException, ExecutionException {
        List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        var ends = admin.listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        return partitions.stream().allMatch(p -> ends.get(p).offset() == 0
                || committed.get(p) != null && committed.get(p).offset() >= ends.get(p).offset());
    }
}
