package dev.tollgate.projector.deadletter;

import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.config.ConsumerLoops;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.state.StateTopicRecords;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Map;

/**
 * Dead-letters the bad records of the compacted state topics. Those topics have no single consumer
 * that could own a dead letter: every gateway and every projector instance reads all of them (and
 * skips a bad record, keeping the last good value). This consumer group reads each record once
 * for the whole fleet, applies the same {@link StateTopicRecords} checks, and writes each refused
 * record to deadletter.v1 exactly once per origin (at least once across a crash; the origin header
 * tells the duplicates apart) before committing past it (ADR 0014).
 */
@Component
public class StateTopicChecker implements SmartLifecycle {
    /** The {@link dev.tollgate.schemas.topic.DeadLetterHeaders#CONSUMER} of the records it refuses. */
    public static final String CONSUMER = "state-checker";
    static final List<String> TOPICS = List.of(Topics.TENANTS_STATE.name(), Topics.KEYS_STATE.name(), Topics.PRICELISTS_STATE.name(),
            Topics.QUOTA_STATE.name());

    private final BillingProperties properties;
    private final DeadLetters deadLetters;
    private final ConsumerLoops loops;
    private volatile ConsumerLoops.Loop loop;
    private volatile boolean running;

    public StateTopicChecker(BillingProperties properties, DeadLetters deadLetters, ConsumerLoops loops) {
        this.loops = loops;
        this.properties = properties;
        this.deadLetters = deadLetters;
    }

    @Override
    public void start() {
        running = true;
        loop = loops.start("state checker", () -> new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, properties.projector().applicationId() + "-state-checker",
                ConsumerConfig.CLIENT_ID_CONFIG, "state-checker-" + properties.instanceId(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000),
                new StringDeserializer(), new ByteArrayDeserializer()), TOPICS, this::check, () -> {});
    }

    private boolean check(ConsumerRecords<String, byte[]> records) {
        for (ConsumerRecord<String, byte[]> record : records) {
            if (record.key() == null) {
                deadLetters.send(record, CONSUMER, "no record key on a compacted state topic");
            } else if (record.value() != null) {
                try {
                    StateTopicRecords.decode(record.topic(), record.key(), record.value());
                } catch (EventFormatException e) {
                    deadLetters.send(record, CONSUMER, e.getMessage());
                }
            }
        }
        return true;
    }

    @Override
    public void stop() {
        running = false;
        if (loop != null) {
            loop.stop();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
