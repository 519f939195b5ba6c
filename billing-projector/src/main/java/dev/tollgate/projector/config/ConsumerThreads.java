package dev.tollgate.projector.config;

import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.time.Duration;

/** Stopping a consumer that a dedicated thread polls: wake it up, then wait for the thread to close it. */
public final class ConsumerThreads {
    private ConsumerThreads() {}

    public static void stop(KafkaConsumer<?, ?> consumer, Thread thread) {
        if (consumer != null) {
            consumer.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
