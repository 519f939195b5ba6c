package dev.tollgate.billing;

import dev.tollgate.billing.PriceSchedule.ModelRates;
import dev.tollgate.billing.PriceSchedule.PriceList;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PriceScheduleTest {
    private static final PriceList NOVEMBER = new PriceList("pl-1", Instant.parse("2026-11-01T00:00:00Z"),
            Map.of("m", new ModelRates(150_000, 75_000, 600_000)));
    private static final PriceList MID_NOVEMBER = new PriceList("pl-2", Instant.parse("2026-11-15T12:00:00Z"),
            Map.of("m", new ModelRates(100_000, 50_000, 400_000)));

    @Test
    void anEventIsPricedWithTheListInForceAtItsTime() {
        var schedule = new PriceSchedule().add(MID_NOVEMBER).add(NOVEMBER);

        assertThat(schedule.ratesAt("m", Instant.parse("2026-11-15T11:59:59Z"))).contains(new ModelRates(150_000, 75_000, 600_000));
        assertThat(schedule.ratesAt("m", Instant.parse("2026-11-15T12:00:00Z"))).contains(new ModelRates(100_000, 50_000, 400_000));
        assertThat(schedule.inForceAt(Instant.parse("2026-10-31T23:59:59Z"))).isEmpty();
    }

    @Test
    void aPriceChangeMidPeriodSplitsThePeriodIntoSegments() {
        var schedule = new PriceSchedule().add(NOVEMBER).add(MID_NOVEMBER);

        assertThat(schedule.inForceDuring(Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z")))
                .containsExactly(NOVEMBER, MID_NOVEMBER);
        assertThat(schedule.inForceDuring(Instant.parse("2026-11-20T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z")))
                .containsExactly(MID_NOVEMBER);
    }

    @Test
    void republishingTheSameListIsIdempotentButAConflictingOneIsRefused() {
        var schedule = new PriceSchedule().add(NOVEMBER).add(NOVEMBER);
        var conflicting = new PriceList("pl-3", NOVEMBER.effectiveFrom(), Map.of());

        assertThat(schedule.inForceAt(NOVEMBER.effectiveFrom())).contains(NOVEMBER);
        assertThatThrownBy(() -> schedule.add(conflicting)).hasMessageContaining("pl-1").hasMessageContaining("pl-3");
    }
}
