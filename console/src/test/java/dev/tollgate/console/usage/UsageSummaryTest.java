package dev.tollgate.console.usage;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class UsageSummaryTest {
    private static final Instant NOW = Instant.parse("2026-12-03T15:20:00Z");
    private static final ZoneId UTC = ZoneId.of("UTC");

    private static Map<String, Object> bucket(String start, String key, String model, long in, long out, long amount) {
        return Map.of("start", start, "keyId", key, "model", model, "inputTokens", in, "cachedInputTokens", 0, "outputTokens", out,
                "totalTokens", in + out, "events", 1, "amountMicros", amount);
    }

    @Test
    void bucketsAreSummedPerHourPerModelAndPerKey() {
        var report = Map.<String, Object>of("buckets", List.of(
                bucket("2026-12-03T15:01:00Z", "k1", "chat", 10, 5, 7),
                bucket("2026-12-03T15:59:00Z", "k2", "chat", 1, 1, 1),
                bucket("2026-12-03T09:00:00Z", "k1", "embed", 100, 0, 3)));
        UsageSummary summary = UsageSummary.of(UsageSummary.Bucket.of(report), UsageWindow.TODAY, NOW, UTC);
        assertThat(summary.points()).hasSize(24);
        assertThat(summary.points().get(15)).isEqualTo(new UsageSummary.Point("15:00", 17, 8));
        assertThat(summary.points().get(9)).isEqualTo(new UsageSummary.Point("09:00", 100, 3));
        assertThat(summary.byModel()).extracting(UsageSummary.Row::name).containsExactly("chat", "embed"); // by cost, most first
        assertThat(summary.byKey().get(0)).isEqualTo(new UsageSummary.Row("k1", 110, 0, 5, 115, 2, 10));
        assertThat(summary.total()).isEqualTo(new UsageSummary.Row("Total", 111, 0, 6, 117, 3, 11));
    }

    @Test
    void aReportWithoutBucketsIsEmptyButStillChartsEverySlot() {
        UsageSummary summary = UsageSummary.of(UsageSummary.Bucket.of(Map.of()), UsageWindow.MONTH, NOW, UTC);
        assertThat(summary.points()).hasSize(31).allMatch(p -> p.tokens() == 0);
        assertThat(summary.byModel()).isEmpty();
    }
}
