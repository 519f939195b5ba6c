package dev.tollgate.testkit.kafka;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestAccepted;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(KafkaExtension.class)
class EmbeddedKafkaIT {

    @Test
    void everyCatalogTopicExistsWithItsPartitionsAndCleanupPolicy(EmbeddedKafka kafka) throws Exception {
        try (Admin admin = kafka.admin()) {
            Map<String, TopicDescription> topics = admin.describeTopics(
                    Topics.all().stream().map(TopicSpec::name).toList()).allTopicNames().get();
            for (TopicSpec spec : Topics.all()) {
                assertThat(topics.get(spec.name()).partitions()).hasSize(spec.partitions());
                var resource = new ConfigResource(ConfigResource.Type.TOPIC, spec.name());
                var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
                assertThat(config.get("cleanup.policy").value()).isEqualTo(spec.cleanupPolicy().kafkaValue());
                assertThat(config.get("retention.ms").value()).isEqualTo(spec.configs().get("retention.ms"));
            }
        }
        assertThat(kafka.startupTime()).isPositive();
    }

    @Test
    void anEventProducedWithAcksAllIsConsumedIntact(EmbeddedKafka kafka) {
        var data = new RequestAccepted("req-1", "acme", "key-1", "fake-chat", Endpoint.CHAT_COMPLETIONS, true,
                "pool/a", 10, 100);
        CloudEvent<RequestAccepted> event = CloudEvent.of(EventType.USAGE_REQUEST_ACCEPTED, "/test", Instant.now(),
                "req-1", null, data);

        try (var producer = new KafkaProducer<String, byte[]>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.USAGE.name(), data.tenantId(), EventCodec.encode(event))).get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }

        List<CloudEvent<EventData>> received = new ArrayList<>();
        try (var consumer = new KafkaConsumer<String, byte[]>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "embedded-kafka-it",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.USAGE.name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (received.stream().noneMatch(e -> e.id().equals(event.id())) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    assertThat(record.key()).isEqualTo("acme");
                    received.add(EventCodec.decode(record.value()));
                }
            }
        }
        assertThat(received).filteredOn(e -> e.id().equals(event.id())).singleElement()
                .satisfies(e -> assertThat(e.data()).isEqualTo(data));
    }
}
