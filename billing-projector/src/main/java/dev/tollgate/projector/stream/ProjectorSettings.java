package dev.tollgate.projector.stream;

import java.time.Duration;
import java.util.Objects;

/**
 * The knobs of the projector's topology.
 *
 * @param dedupHorizon    how long an event id is remembered (must exceed the producers' retry horizon)
 * @param emitInterval    at most one quota state per window per interval
 * @param grace           how long after a billing period's end (in stream time) its events still bill on it
 * @param minuteRetention how long per-minute usage is kept for the usage API
 */
public record ProjectorSettings(Duration dedupHorizon, Duration emitInterval, Duration grace, Duration minuteRetention) {
    /** Event ids are remembered this long: well past the gateway spool's longest retry. */
    public static final Duration DEFAULT_DEDUP_HORIZON = Duration.ofDays(7);
    public static final Duration DEFAULT_EMIT_INTERVAL = Duration.ofMillis(500);
    /** Events of a period that arrive within two hours of its end (event time) still bill on it. */
    public static final Duration DEFAULT_GRACE = Duration.ofHours(2);
    public static final Duration DEFAULT_MINUTE_RETENTION = Duration.ofDays(2);

    public ProjectorSettings {
        Objects.requireNonNull(dedupHorizon, "dedupHorizon");
        Objects.requireNonNull(emitInterval, "emitInterval");
        Objects.requireNonNull(grace, "grace");
        Objects.requireNonNull(minuteRetention, "minuteRetention");
        if (grace.isNegative() || minuteRetention.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("grace must be >= 0 and minute retention >= 1 minute");
        }
    }

    public static ProjectorSettings defaults() {
        return new ProjectorSettings(DEFAULT_DEDUP_HORIZON, DEFAULT_EMIT_INTERVAL, DEFAULT_GRACE, DEFAULT_MINUTE_RETENTION);
    }

    public ProjectorSettings withGrace(Duration value) {
        return new ProjectorSettings(dedupHorizon, emitInterval, value, minuteRetention);
    }

}
