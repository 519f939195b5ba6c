package dev.tollgate.projector.usage;

import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;

/**
 * The live usage a report reads: per tenant, key and model, a bucket per day in the tenant's zone
 * and per minute. The one place that adds to them: billing adds each event's tokens and spend,
 * re-pricing adds the spend a backfill changed.
 */
public final class UsageCounts {
    private final KeyValueStore<String, String> days;
    private final WindowStore<String, String> minutes;

    private UsageCounts(KeyValueStore<String, String> days, WindowStore<String, String> minutes) {
        this.days = days;
        this.minutes = minutes;
    }

    /** The counts of a processor connected to the day and minute stores named. */
    public static UsageCounts of(ProcessorContext<?, ?> context, String dayStore, String minuteStore) {
        return new UsageCounts(context.getStateStore(dayStore), context.getStateStore(minuteStore));
    }

    /** Adds {@code amount} to the day and the minute of {@code time} (a minute past the store's retention is dropped). */
    public void add(String tenantId, String keyId, String model, Instant time, ZoneId zone, UsageBucket amount) {
        String dayKey = UsageKeys.day(tenantId, time.atZone(zone).toLocalDate(), keyId, model);
        days.put(dayKey, UsageBucket.decode(days.get(dayKey)).plus(amount).encode());
        String minuteKey = UsageKeys.minute(tenantId, keyId, model);
        long minute = time.truncatedTo(ChronoUnit.MINUTES).toEpochMilli();
        minutes.put(minuteKey, UsageBucket.decode(minutes.fetch(minuteKey, minute)).plus(amount).encode(), minute);
    }
}
