package dev.tollgate.devstack;

import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DevStackIT {

    @Test
    void theStackServesKafkaAndTheFakeUpstreamAndKeepsKafkaDataAcrossRestarts(@TempDir Path dataDir) throws Exception {
        Map<String, String> options = Map.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0",
                "ttft-ms", "0", "inter-token-ms", "0");

        try (DevStack stack = DevStack.start(options)) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
                assertThat(admin.listTopics().names().get()).containsAll(Topics.all().stream().map(t -> t.name()).toList());
            }
            HttpResponse<String> models = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(stack.upstreamUrl() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(models.body()).contains("fake-chat");
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    stack.kafkaBootstrapServers()), new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>(Topics.DEAD_LETTER.name(), 0, "k", "kept")).get();
            }
            assertThat(stack.banner()).contains(stack.upstreamUrl()).contains("usage.v1");
        }

        try (DevStack again = DevStack.start(options);
             var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                     again.kafkaBootstrapServers()), new StringDeserializer(), new StringDeserializer())) {
            var partition = new TopicPartition(Topics.DEAD_LETTER.name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            var records = consumer.poll(Duration.ofSeconds(10));
            assertThat(records.records(partition)).extracting(r -> r.value()).containsExactly("kept");
        }
    }

    @Test
    void aBadOptionFailsFastNamingIt() {
        assertThatThrownBy(() -> DevStack.start(Map.of("kafka-port", "ninety")))
                .hasMessageContaining("--kafka-port");
        assertThatThrownBy(() -> DevStack.parse(new String[] {"--kafka-port"}))
                .hasMessageContaining("usage");
    }
}
