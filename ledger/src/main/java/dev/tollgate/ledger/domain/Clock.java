package dev.tollgate.ledger.domain;

import org.axonframework.eventhandling.GenericEventMessage;

import java.time.Instant;

/** "Now" for the aggregates: Axon's event clock, which the test fixtures control. */
public final class Clock {
    private Clock() {}

    public static Instant now() {
        return GenericEventMessage.clock.instant();
    }
}
