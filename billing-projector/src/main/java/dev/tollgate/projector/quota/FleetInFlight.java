package dev.tollgate.projector.quota;

import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the gateway fleet holds of each prepaid balance beyond the projector's burn (ADR 0027): every replica's heartbeat
 * ({@code gateways.heartbeats.v1}, read whole by every billing instance, no consumer group) says, per tenant, what its
 * requests in flight reserved and what it settled that the state does not count yet. A replica's figures count until its
 * heartbeat expires (ADR 0020) or its tombstone arrives.
 */
@Component
public class FleetInFlight implements SmartLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(FleetInFlight.class);

    private final BillingProperties properties;
    private final Map<String, GatewayHeartbeat> heartbeats = new ConcurrentHashMap<>();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread thread;
    private volatile boolean running;

    public FleetInFlight(BillingProperties properties) {
        this.properties = properties;
    }

    /** What the live replicas hold of {@code tenantId}'s balance at {@code now}, in micro-units. */
    public long inFlightMicros(String tenantId, Instant now) {
        long sum = 0;
        for (GatewayHeartbeat heartbeat : heartbeats.values()) {
            if (heartbeat.sentAt().plus(heartbeat.expiresAfter()).isBefore(now)) {
                continue; // a replica that stopped beating: what it held is settled by now or lost with it
            }
            for (GatewayHeartbeat.Balance balance : heartbeat.balances()) {
                if (balance.tenantId().equals(tenantId)) {
                    sum += balance.inFlightMicros();
                }
            }
        }
        return sum;
    }

    /** Applies one heartbeat record (a tombstone removes its replica; an unreadable one is skipped). */
    void apply(String replica, byte[] value) {
        if (replica == null) {
            return;
        }
        if (value == null) {
            heartbeats.remove(replica);
            return;
        }
        try {
            GatewayHeartbeat heartbeat = EventCodec.decodeState(value, GatewayHeartbeat.class);
            heartbeats.merge(replica, heartbeat, (old, now) -> now.sentAt().isBefore(old.sentAt()) ? old : now);
        } catch (RuntimeException e) {
            LOG.debug("heartbeat of {} not read: {}", replica, e.toString());
        }
    }

    @Override
    public void start() {
        consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, "fleet-in-flight-" + properties.instanceId(), ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new StringDeserializer(), new ByteArrayDeserializer());
        running = true;
        thread = new Thread(this::run, "fleet-in-flight");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            List<TopicPartition> partitions = List.of();
            while (running && partitions.isEmpty()) {
                partitions = consumer.partitionsFor(Topics.GATEWAY_HEARTBEATS.name(), Duration.ofSeconds(5)).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    apply(record.key(), record.value());
                }
            }
        } catch (WakeupException e) {
            // stopping
        } catch (RuntimeException e) {
            LOG.error("the fleet's heartbeats are no longer read; balances show nothing in flight", e);
            heartbeats.clear();
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void stop() {
        running = false;
        KafkaConsumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
