package dev.tollgate.projector.config;

import dev.tollgate.testkit.kafka.SharedKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Status;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A consumer loop that dies outside its batch handler comes back by itself, counted; liveness fails
 * only for a loop stuck for good (issue #19 item 13).
 */
class ConsumerLoopsIT {

    private static String newTopicWith(int records) throws Exception {
        String topic = "loops-" + UUID.randomUUID();
        var kafka = SharedKafka.get();
        kafka.admin().createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        try (var producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, new byte[]{(byte) i}));
            }
        }
        return topic;
    }

    private static KafkaConsumer<String, byte[]> consumer(String group, Deserializer<String> keys) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.get().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), keys, new ByteArrayDeserializer());
    }

    /** A key deserializer that breaks every poll, as a fatal client error would (the test gives it to one consumer only). */
    private static Deserializer<String> failingOnce() {
        return (topic, bytes) -> {
            throw new KafkaException("a poll that fails outside the batch handler");
        };
    }

    @Test
    void aLoopWhoseConsumerCannotBeCreatedOrPolledRestartsAndReadsEverything() throws Exception {
        String topic = newTopicWith(50);
        String group = "loops-" + UUID.randomUUID();
        var registry = new SimpleMeterRegistry();
        var loops = new ConsumerLoops(registry, Duration.ofMinutes(5));
        var made = new AtomicInteger();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        ConsumerLoops.Loop loop = loops.start("test loop", () -> switch (made.incrementAndGet()) {
            case 1 -> throw new KafkaException("Kafka unreachable while the consumer was made");
            case 2 -> consumer(group, failingOnce());
            default -> consumer(group, new StringDeserializer());
        }, List.of(topic), records -> {
            records.forEach(record -> seen.add(record.key()));
            return true;
        }, () -> {});
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 50);
            assertThat(loop.restarts()).isEqualTo(2);
            assertThat(registry.get("tollgate.billing.loop.restarts").tag("loop", "test loop").counter().count()).isEqualTo(2);
            assertThat(loops.health().getStatus()).isEqualTo(Status.UP);
        } finally {
            loop.stop();
        }
    }

    @Test
    void livenessFailsOnlyWhileALoopIsStuckPastTheBound() throws Exception {
        String topic = newTopicWith(1);
        var loops = new ConsumerLoops(new SimpleMeterRegistry(), Duration.ofSeconds(2));
        var release = new CountDownLatch(1);
        ConsumerLoops.Loop loop = loops.start("stuck loop", () -> consumer("loops-" + UUID.randomUUID(), new StringDeserializer()),
                List.of(topic), records -> {
                    release.await();
                    return true;
                }, () -> {});
        try {
            assertThat(loops.health().getStatus()).isEqualTo(Status.UP);
            await().atMost(Duration.ofSeconds(30)).until(() -> loops.health().getStatus().equals(Status.DOWN));
            assertThat(loops.health().getDetails()).containsKey("stuck loop");
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> loops.health().getStatus().equals(Status.UP));
        } finally {
            release.countDown();
            loop.stop();
        }
    }
}
