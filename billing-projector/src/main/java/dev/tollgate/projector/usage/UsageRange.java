package dev.tollgate.projector.usage;

import dev.tollgate.billing.BillingPeriod;
import dev.tollgate.projector.api.BillingException;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;

/**
 * The half-open range {@code [from, to)} a usage query covers. Bounds are instants or dates (a date
 * is its midnight in the tenant's billing zone); by default the current billing period from its
 * first instant to the end of the current minute, so the 1st of the month is never left out.
 */
public record UsageRange(Instant from, Instant to) {
    /** The longest range one usage query may cover, per granularity (bounded work per request). */
    public static final long MAX_MINUTES = 48 * 60;
    public static final long MAX_DAYS = 400;

    /** Reads the query's bounds; {@code null} means the default. A bad bound is a 400 of the billing API. */
    public static UsageRange of(String from, String to, UsageQueries.Granularity granularity, ZoneId zone, Instant now) {
        Instant start = from == null ? BillingPeriod.containing(now, zone).start() : instant(from, zone, "from");
        Instant end = to == null ? now.plusSeconds(60).truncatedTo(ChronoUnit.MINUTES) : instant(to, zone, "to");
        if (!end.isAfter(start)) {
            throw new BillingException.Invalid("invalid_range", "'to' must be after 'from'");
        }
        boolean minutes = granularity == UsageQueries.Granularity.MINUTE;
        long span = minutes ? Duration.between(start, end).toMinutes() : Duration.between(start, end).toDays();
        if (span > (minutes ? MAX_MINUTES : MAX_DAYS)) {
            throw new BillingException.Invalid("range_too_large", "at most " + MAX_MINUTES + " minutes per minute query and " + MAX_DAYS
                    + " days per day or month query");
        }
        return new UsageRange(start, end);
    }

    private static Instant instant(String value, ZoneId zone, String name) {
        try {
            return value.length() == 10 ? LocalDate.parse(value).atStartOfDay(zone).toInstant() : Instant.parse(value);
        } catch (DateTimeException e) {
            throw new BillingException.Invalid("invalid_" + name, "'" + name + "' must be an ISO-8601 instant or date");
        }
    }
}
