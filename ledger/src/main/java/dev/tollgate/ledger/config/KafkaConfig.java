package dev.tollgate.ledger.config;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.Map;

@Configuration
public class KafkaConfig {

    /** Idempotent, acks=all: a retried send never duplicates within the producer's session. */
    @Bean(destroyMethod = "close")
    public Producer<String, byte[]> ledgerProducer(LedgerProperties properties, MeterRegistry registry) {
        var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) properties.kafka().sendTimeout().toMillis(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(30_000, properties.kafka().sendTimeout().toMillis()),
                ProducerConfig.CLIENT_ID_CONFIG, "ledger-" + properties.instanceId()),
                new StringSerializer(), new ByteArraySerializer());
        // Sends, errors and request latency of the publisher at /metrics.
        new KafkaClientMetrics(producer).bindTo(registry);
        return producer;
    }
}
