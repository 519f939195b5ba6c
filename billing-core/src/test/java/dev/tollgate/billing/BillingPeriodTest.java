package dev.tollgate.billing;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class BillingPeriodTest {
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void aUtcPeriodIsTheCalendarMonth() {
        BillingPeriod period = BillingPeriod.containing(Instant.parse("2026-11-27T18:00:00Z"), ZoneOffset.UTC);

        assertThat(period.id()).isEqualTo("2026-11");
        assertThat(period.start()).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(period.end()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
    }

    @Test
    void aPeriodInATenantZoneFollowsLocalMidnightAcrossTheDstChange() {
        BillingPeriod october = new BillingPeriod(YearMonth.of(2026, 10), BERLIN);

        // 1 October is CEST (+02:00); 1 November is CET (+01:00): the month is 31 days and one hour long.
        assertThat(october.start()).isEqualTo(Instant.parse("2026-09-30T22:00:00Z"));
        assertThat(october.end()).isEqualTo(Instant.parse("2026-10-31T23:00:00Z"));
        assertThat(october.next().start()).isEqualTo(october.end());
    }

    @Test
    void theBoundaryInstantBelongsToTheNextPeriod() {
        Instant midnightInBerlin = Instant.parse("2026-10-31T23:00:00Z");

        assertThat(BillingPeriod.containing(midnightInBerlin, BERLIN).id()).isEqualTo("2026-11");
        assertThat(BillingPeriod.containing(midnightInBerlin.minusNanos(1), BERLIN).id()).isEqualTo("2026-10");
        assertThat(BillingPeriod.containing(midnightInBerlin, ZoneOffset.UTC).id()).isEqualTo("2026-10");
    }
}
