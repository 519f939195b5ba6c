package dev.tollgate.bench;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The benchmarks' tenant: the topics created on a fresh Kafka node, and tenant {@code bench} with one
 * active key whose limits are high but checked on every request, published as the ledger would.
 */
final class BenchTenant {
    private BenchTenant() {}

    /** Waits for the node, creates every topic, publishes the tenant and {@code key}. */
    static void seed(String bootstrap, ApiKeys.NewKey key) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (true) { // the node is a fresh process: wait until it answers
                try {
                    admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                    break;
                } catch (ExecutionException | TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the Kafka node did not start", e);
                    }
                }
            }
            var topics = new ArrayList<NewTopic>();
            for (TopicSpec spec : Topics.all()) {
                topics.add(new NewTopic(spec.name(), spec.partitions(), (short) 1));
            }
            try {
                admin.createTopics(topics).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        Instant now = Instant.now();
        var limits = new Limits(100_000_000L, 100_000_000_000L, null, null, null, 1_000_000L);
        List<StateRecord> records = List.of(
                new TenantState("bench", "Bench", TenantState.Status.ACTIVE, null, "UTC", "USD", limits, null, null, 1, now),
                new KeyState(key.keyId(), "bench", "bench", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(key.hash(), null)),
                        List.of(), List.of(), null, null, 1, now));
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            for (StateRecord record : records) {
                String topic = record instanceof KeyState ? Topics.KEYS_STATE.name() : Topics.TENANTS_STATE.name();
                producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
            }
        }
    }
}
