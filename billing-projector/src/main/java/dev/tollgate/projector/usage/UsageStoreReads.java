package dev.tollgate.projector.usage;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads one tenant's live usage out of the projector's stores into buckets keyed
 * {@code start|key|model}. Separate from {@link UsageQueries} (which finds the stores and the owner)
 * so that the key ranges can be tested against the topology's own stores.
 */
public final class UsageStoreReads {
    private UsageStoreReads() {}

    /** Per-minute usage of {@code tenantId} in {@code [from, to)}, bucketed by the minute's start. */
    public static Map<String, UsageBucket> minutes(ReadOnlyWindowStore<String, String> store, String tenantId, Instant from, Instant to) {
        var buckets = new TreeMap<String, UsageBucket>();
        try (KeyValueIterator<Windowed<String>, String> all = store.fetch(UsageKeys.tenantFrom(tenantId), UsageKeys.tenantTo(tenantId),
                from, to.minusMillis(1))) {
            while (all.hasNext()) {
                KeyValue<Windowed<String>, String> entry = all.next();
                String[] parts = UsageKeys.parts(entry.key.key());
                if (parts[0].equals(tenantId)) {
                    String start = Instant.ofEpochMilli(entry.key.window().start()).toString();
                    buckets.merge(start + "|" + parts[1] + "|" + parts[2], UsageBucket.decode(entry.value), UsageBucket::plus);
                }
            }
        }
        return buckets;
    }

    /**
     * Per-day usage of {@code tenantId} for the days {@code firstDay..lastDay} (both included, days in
     * the tenant's billing zone), bucketed by day or, with {@code byMonth}, by month.
     */
    public static Map<String, UsageBucket> days(ReadOnlyKeyValueStore<String, String> store, String tenantId, LocalDate firstDay,
                                                LocalDate lastDay, boolean byMonth) {
        var buckets = new TreeMap<String, UsageBucket>();
        try (KeyValueIterator<String, String> all = store.range(UsageKeys.dayFrom(tenantId, firstDay), UsageKeys.dayTo(tenantId, lastDay))) {
            while (all.hasNext()) {
                KeyValue<String, String> entry = all.next();
                String[] parts = UsageKeys.parts(entry.key);
                if (parts[0].equals(tenantId)) {
                    String start = byMonth ? parts[1].substring(0, 7) : parts[1];
                    buckets.merge(start + "|" + parts[2] + "|" + parts[3], UsageBucket.decode(entry.value), UsageBucket::plus);
                }
            }
        }
        return buckets;
    }
}
