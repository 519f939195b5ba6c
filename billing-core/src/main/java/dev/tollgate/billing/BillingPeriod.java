package dev.tollgate.billing;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.util.Objects;

/**
 * A calendar-month billing period in the tenant's billing time zone, as the half-open interval
 * {@code [start, end)} of instants. An event belongs to the period that contains its event time.
 */
public record BillingPeriod(YearMonth month, ZoneId zone) {

    public BillingPeriod {
        Objects.requireNonNull(month, "month");
        Objects.requireNonNull(zone, "zone");
    }

    /** The period that contains {@code instant} in {@code zone}. */
    public static BillingPeriod containing(Instant instant, ZoneId zone) {
        return new BillingPeriod(YearMonth.from(instant.atZone(zone)), zone);
    }

    /** The first instant of the period (midnight of the 1st, local time). */
    public Instant start() {
        return month.atDay(1).atStartOfDay(zone).toInstant();
    }

    /** The first instant after the period. */
    public Instant end() {
        return month.plusMonths(1).atDay(1).atStartOfDay(zone).toInstant();
    }

    /** True if {@code instant} lies in {@code [start, end)}. */
    public boolean contains(Instant instant) {
        return !instant.isBefore(start()) && instant.isBefore(end());
    }

    /** The period after this one. */
    public BillingPeriod next() {
        return new BillingPeriod(month.plusMonths(1), zone);
    }

    /** {@code YYYY-MM}, the period's name in APIs and the audit CLI. */
    public String id() {
        return month.toString();
    }
}
