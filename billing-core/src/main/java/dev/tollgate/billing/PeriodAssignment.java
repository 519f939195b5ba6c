package dev.tollgate.billing;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;

/**
 * Which invoice an event lands on, decided from event time alone so that a replay of the same
 * partition in the same order decides the same (ADR 0008). A billing period closes once the
 * partition's stream time (the newest event time seen so far) reaches the period's end plus the
 * grace. An event whose own period is still open bills there; an event whose period has closed is
 * late: it bills as an adjustment on the period that contains the stream time (always still open),
 * priced at its own time. Nothing is ever dropped.
 *
 * @param period        the period whose invoice carries the event
 * @param adjustsPeriod null, or the closed period a late event belonged to
 */
public record PeriodAssignment(BillingPeriod period, BillingPeriod adjustsPeriod) {

    public PeriodAssignment {
        Objects.requireNonNull(period, "period");
    }

    public boolean late() {
        return adjustsPeriod != null;
    }

    /**
     * @param streamTime the newest event time seen in the partition before this event (null if none)
     */
    public static PeriodAssignment of(Instant eventTime, ZoneId zone, Instant streamTime, Duration grace) {
        BillingPeriod own = BillingPeriod.containing(eventTime, zone);
        if (streamTime != null && closed(own, streamTime, grace)) {
            return new PeriodAssignment(BillingPeriod.containing(streamTime, zone), own);
        }
        return new PeriodAssignment(own, null);
    }

    /** True once {@code streamTime} has reached the end of {@code period} plus {@code grace}. */
    public static boolean closed(BillingPeriod period, Instant streamTime, Duration grace) {
        return !streamTime.isBefore(closesAt(period, grace));
    }

    /** The stream time at which {@code period} closes. */
    public static Instant closesAt(BillingPeriod period, Duration grace) {
        return period.end().plus(grace);
    }
}
