package dev.tollgate.projector.stream;

import java.time.Instant;

/** What the topology reports while it runs (the service binds it to Micrometer; tests ignore it). */
public interface ProjectorMetrics {
    ProjectorMetrics NONE = new ProjectorMetrics() {};

    /** A batch of quota states went out, the newest reflecting usage up to {@code asOf}. */
    default void quotaStatesEmitted(int count, Instant asOf) {
    }

    /** A usage event was late (billed as an adjustment on the next invoice). */
    default void lateEvent() {
    }

    /** A stream thread failed (Kafka away for longer than a send may block, for one) and was replaced. */
    default void streamThreadReplaced() {
    }

    /** A record of a ledger state topic failed its checks and was not loaded (the last good value stays). */
    default void stateRecordRejected(String topic) {
    }
}
