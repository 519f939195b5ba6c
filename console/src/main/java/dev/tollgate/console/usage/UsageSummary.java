package dev.tollgate.console.usage;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A billing API usage report made ready for a page: one point per slot of the window (tokens and
 * cost), and rows by model or by key. Amounts are the report's, which rounds once per bucket;
 * invoices round once per line (ADR 0003), so a month's sum here can differ from its invoice by
 * less than a micro-unit per bucket.
 */
public record UsageSummary(List<Point> points, List<Row> byModel, List<Row> byKey, Row total) {

    /** One bar of the chart. */
    public record Point(String label, long tokens, long amountMicros) {}

    /** A table row; {@code name} is the model or key id. */
    public record Row(String name, long inputTokens, long cachedInputTokens, long outputTokens, long totalTokens, long events,
                      long amountMicros) {
        Row plus(Bucket b) {
            return new Row(name, inputTokens + b.inputTokens(), cachedInputTokens + b.cachedInputTokens(), outputTokens + b.outputTokens(),
                    totalTokens + b.totalTokens(), events + b.events(), amountMicros + b.amountMicros());
        }

        static Row empty(String name) {
            return new Row(name, 0, 0, 0, 0, 0, 0);
        }
    }

    /** One bucket of the report, read from its JSON fields. */
    public record Bucket(String start, String keyId, String model, long inputTokens, long cachedInputTokens, long outputTokens,
                         long totalTokens, long events, long amountMicros) {
        @SuppressWarnings("unchecked")
        public static List<Bucket> of(Map<String, Object> report) {
            Object buckets = report.get("buckets");
            if (!(buckets instanceof List<?> list)) {
                return List.of();
            }
            var out = new ArrayList<Bucket>(list.size());
            for (Object item : list) {
                var b = (Map<String, Object>) item;
                out.add(new Bucket(String.valueOf(b.get("start")), (String) b.get("keyId"), (String) b.get("model"),
                        count(b, "inputTokens"), count(b, "cachedInputTokens"), count(b, "outputTokens"), count(b, "totalTokens"),
                        count(b, "events"), count(b, "amountMicros")));
            }
            return out;
        }

        private static long count(Map<String, Object> bucket, String field) {
            return bucket.get(field) instanceof Number n ? n.longValue() : 0;
        }
    }

    public static UsageSummary of(List<Bucket> buckets, UsageWindow window, Instant now, ZoneId zone) {
        var slots = window.slots(now, zone);
        var tokens = new LinkedHashMap<String, long[]>();
        slots.forEach(slot -> tokens.put(slot.key(), new long[2]));
        var models = new LinkedHashMap<String, Row>();
        var keys = new LinkedHashMap<String, Row>();
        Row total = Row.empty("Total");
        for (Bucket b : buckets) {
            long[] slot = tokens.get(window.slotOf(b.start(), now, zone));
            if (slot != null) {
                slot[0] += b.totalTokens();
                slot[1] += b.amountMicros();
            }
            String model = b.model() == null ? "(none)" : b.model();
            String key = b.keyId() == null ? "(none)" : b.keyId();
            models.put(model, models.getOrDefault(model, Row.empty(model)).plus(b));
            keys.put(key, keys.getOrDefault(key, Row.empty(key)).plus(b));
            total = total.plus(b);
        }
        var points = new ArrayList<Point>(slots.size());
        for (var slot : slots) {
            long[] sums = tokens.get(slot.key());
            points.add(new Point(slot.label(), sums[0], sums[1]));
        }
        return new UsageSummary(points, sorted(models), sorted(keys), total);
    }

    /** Each key's latest bucket start with usage (days sort as text: {@code YYYY-MM-DD}). */
    public static Map<String, String> lastBucketPerKey(List<Bucket> buckets) {
        var last = new HashMap<String, String>();
        for (Bucket b : buckets) {
            if (b.keyId() != null && b.events() > 0) {
                last.merge(b.keyId(), b.start(), (x, y) -> x.compareTo(y) >= 0 ? x : y);
            }
        }
        return last;
    }

    private static List<Row> sorted(Map<String, Row> rows) {
        return rows.values().stream().sorted(Comparator.comparingLong(Row::amountMicros).reversed().thenComparing(Row::totalTokens,
                Comparator.reverseOrder()).thenComparing(Row::name)).toList();
    }
}
