package dev.tollgate.projector.config;

import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.function.BooleanSupplier;

/**
 * The poll loop of this service's plain consumers (invoice writer, alert webhooks, state checker):
 * each polled batch is handed over whole; once the handler returns, the batch's offsets are
 * committed. A handler that throws (PostgreSQL restarting, a dead letter not written) gets the same
 * batch again after a backoff doubling up to 30 s, for as long as it takes: nothing is skipped and
 * no operator is needed when the dependency comes back. Handlers must therefore be idempotent. What
 * fails outside a handler (the poll itself) ends the loop with the exception; {@link ConsumerLoops}
 * restarts it.
 */
public final class BatchConsumerLoop {
    private static final Logger LOG = LoggerFactory.getLogger(BatchConsumerLoop.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** Applies one batch. */
    public interface Handler {
        /**
         * @return true when the batch is done (its offsets get committed); false to be handed the
         * same batch again shortly without counting a failure (a dependency still starting)
         */
        boolean handle(ConsumerRecords<String, byte[]> records) throws Exception;
    }

    private BatchConsumerLoop() {}

    /**
     * Polls until {@code running} turns false or the consumer is woken up, then closes the consumer.
     *
     * @param onFailure called once per failed attempt (a metric)
     * @param onPoll    called before each poll (the supervisor's sign of life, {@link ConsumerLoops})
     */
    public static void run(String name, KafkaConsumer<String, byte[]> consumer, BooleanSupplier running, Handler handler,
                           Runnable onFailure, Runnable onPoll) {
        Duration backoff = FIRST_BACKOFF;
        try {
            while (running.getAsBoolean()) {
                onPoll.run();
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                boolean done;
                try {
                    done = handler.handle(records);
                    if (done) {
                        var offsets = new HashMap<TopicPartition, OffsetAndMetadata>();
                        for (TopicPartition partition : records.partitions()) {
                            offsets.put(partition, new OffsetAndMetadata(records.records(partition).getLast().offset() + 1));
                        }
                        consumer.commitSync(offsets);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (WakeupException e) {
                    throw e;
                } catch (Exception e) {
                    if (!running.getAsBoolean()) {
                        return;
                    }
                    onFailure.run();
                    LOG.error("{}: a batch of {} records failed; the same records again in {} ms", name, records.count(), backoff.toMillis(), e);
                    rewind(consumer, records);
                    sleep(backoff);
                    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                    continue;
                }
                if (!done) {
                    rewind(consumer, records);
                    sleep(Duration.ofMillis(500));
                    continue;
                }
                backoff = FIRST_BACKOFF;
            }
        } catch (WakeupException e) {
            // stopping
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private static void rewind(KafkaConsumer<String, byte[]> consumer, ConsumerRecords<String, byte[]> records) {
        var assigned = consumer.assignment(); // a rebalance may have moved some partitions elsewhere: their new owner reads them
        for (TopicPartition partition : records.partitions()) {
            if (assigned.contains(partition)) {
                consumer.seek(partition, records.records(partition).getFirst().offset());
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
