package dev.tollgate.billing;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;

import static org.assertj.core.api.Assertions.assertThat;

class PeriodAssignmentTest {
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final Duration GRACE = Duration.ofHours(1);

    @Test
    void anEventBillsInItsOwnPeriodWhileThatPeriodIsOpenIncludingTheGrace() {
        Instant lastOfOctober = Instant.parse("2026-10-31T23:59:00Z");
        var withinGrace = PeriodAssignment.of(lastOfOctober, UTC, Instant.parse("2026-11-01T00:59:59Z"), GRACE);

        assertThat(withinGrace.period().month()).isEqualTo(YearMonth.of(2026, 10));
        assertThat(withinGrace.late()).isFalse();
        assertThat(PeriodAssignment.of(lastOfOctober, UTC, null, GRACE).late()).isFalse();
    }

    @Test
    void anEventAfterTheGraceIsAnAdjustmentOnThePeriodOfTheStreamTime() {
        var late = PeriodAssignment.of(Instant.parse("2026-10-31T23:59:00Z"), UTC, Instant.parse("2026-11-01T01:00:00Z"), GRACE);

        assertThat(late.late()).isTrue();
        assertThat(late.adjustsPeriod().month()).isEqualTo(YearMonth.of(2026, 10));
        assertThat(late.period().month()).isEqualTo(YearMonth.of(2026, 11));
    }

    @Test
    void periodsFollowTheTenantsTimeZone() {
        ZoneId tokyo = ZoneId.of("Asia/Tokyo");
        // 2026-10-31T16:00Z is already 1 November in Tokyo.
        var assignment = PeriodAssignment.of(Instant.parse("2026-10-31T16:00:00Z"), tokyo, null, GRACE);

        assertThat(assignment.period().month()).isEqualTo(YearMonth.of(2026, 11));
        assertThat(PeriodAssignment.closesAt(assignment.period(), GRACE)).isEqualTo(Instant.parse("2026-11-30T16:00:00Z"));
    }
}
