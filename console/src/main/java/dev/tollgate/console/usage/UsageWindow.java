package dev.tollgate.console.usage;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The spans of time the usage pages chart, each with the billing API query that covers it and the
 * slots its bars stand for, in the tenant's billing zone: the last hour by minute, today by hour (a
 * day of a DST change has 23 or 25), this month by day, the last twelve months by month.
 */
public enum UsageWindow {
    HOUR("Last hour", "minute"),
    TODAY("Today", "minute"),
    MONTH("This month", "day"),
    YEAR("Last 12 months", "month");

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT);

    private final String title;
    private final String granularity;

    UsageWindow(String title, String granularity) {
        this.title = title;
        this.granularity = granularity;
    }

    /** One bar: {@code key} matches {@link #slotOf} of the buckets it sums. */
    public record Slot(String key, String label) {}

    /** The billing API query: granularity and the half-open range as it accepts them (dates in the tenant's zone, or instants). */
    public record Query(String granularity, String from, String to) {}

    public String title() {
        return title;
    }

    public static UsageWindow parse(String value) {
        for (UsageWindow window : values()) {
            if (window.name().equalsIgnoreCase(value)) {
                return window;
            }
        }
        return TODAY;
    }

    public Query query(Instant now, ZoneId zone) {
        LocalDate today = now.atZone(zone).toLocalDate();
        return switch (this) {
            case HOUR -> new Query(granularity, now.truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(59)).toString(),
                    now.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1)).toString());
            case TODAY -> new Query(granularity, today.toString(), today.plusDays(1).toString());
            case MONTH -> new Query(granularity, today.withDayOfMonth(1).toString(), today.withDayOfMonth(1).plusMonths(1).toString());
            case YEAR -> new Query(granularity, today.withDayOfMonth(1).minusMonths(11).toString(), today.withDayOfMonth(1).plusMonths(1).toString());
        };
    }

    /** The bars of this window, oldest first. */
    public List<Slot> slots(Instant now, ZoneId zone) {
        var slots = new ArrayList<Slot>();
        LocalDate today = now.atZone(zone).toLocalDate();
        switch (this) {
            case HOUR -> {
                Instant first = now.truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(59));
                for (int i = 0; i < 60; i++) {
                    Instant minute = first.plus(Duration.ofMinutes(i));
                    slots.add(new Slot(minute.toString(), CLOCK.format(minute.atZone(zone))));
                }
            }
            case TODAY -> {
                ZonedDateTime start = today.atStartOfDay(zone);
                Instant end = today.plusDays(1).atStartOfDay(zone).toInstant();
                for (Instant hour = start.toInstant(); hour.isBefore(end); hour = hour.plus(Duration.ofHours(1))) {
                    slots.add(new Slot(hour.toString(), CLOCK.format(hour.atZone(zone))));
                }
            }
            case MONTH -> {
                YearMonth month = YearMonth.from(today);
                for (int day = 1; day <= month.lengthOfMonth(); day++) {
                    slots.add(new Slot(month.atDay(day).toString(), Integer.toString(day)));
                }
            }
            case YEAR -> {
                YearMonth first = YearMonth.from(today).minusMonths(11);
                for (int i = 0; i < 12; i++) {
                    slots.add(new Slot(first.plusMonths(i).toString(), first.plusMonths(i).toString()));
                }
            }
        }
        return slots;
    }

    /**
     * The slot a bucket of the billing API belongs to. A minute bucket's start is an instant; today's
     * slots are the hours counted from the zone's midnight (so +05:45 or a DST day still slot right).
     */
    public String slotOf(String bucketStart, Instant now, ZoneId zone) {
        return switch (this) {
            case HOUR -> Instant.parse(bucketStart).toString();
            case TODAY -> {
                Instant start = now.atZone(zone).toLocalDate().atStartOfDay(zone).toInstant();
                long hours = Duration.between(start, Instant.parse(bucketStart)).toHours();
                yield start.plus(Duration.ofHours(hours)).toString();
            }
            case MONTH, YEAR -> bucketStart;
        };
    }
}
