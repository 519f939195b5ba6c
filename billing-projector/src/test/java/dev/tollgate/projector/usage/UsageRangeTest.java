package dev.tollgate.projector.usage;

import dev.tollgate.projector.api.BillingException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;

import static dev.tollgate.projector.usage.UsageQueries.Granularity.DAY;
import static dev.tollgate.projector.usage.UsageQueries.Granularity.MINUTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The default usage range at awkward instants: the 1st, the last day, DST changes, far-east and far-west zones. */
class UsageRangeTest {
    private static final ZoneId UTC = ZoneId.of("UTC");

    @Test
    void onTheFirstOfTheMonthTheDefaultRangeStartsAtItsMidnight() {
        var range = UsageRange.of(null, null, DAY, UTC, Instant.parse("2026-12-01T00:00:30Z"));
        assertThat(range).isEqualTo(new UsageRange(Instant.parse("2026-12-01T00:00:00Z"), Instant.parse("2026-12-01T00:01:00Z")));
    }

    @Test
    void onTheLastDayJustBeforeMidnightTheDefaultRangeIsTheWholeMonth() {
        var range = UsageRange.of(null, null, DAY, UTC, Instant.parse("2026-11-30T23:59:30Z"));
        assertThat(range).isEqualTo(new UsageRange(Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z")));
    }

    @Test
    void farEastTheMonthHasAlreadyTurnedWhileUtcIsStillInTheOldOne() {
        // 2026-11-30T10:30Z is 2026-12-01T00:30 at UTC+14.
        var range = UsageRange.of(null, null, DAY, ZoneId.of("Pacific/Kiritimati"), Instant.parse("2026-11-30T10:30:00Z"));
        assertThat(range.from()).isEqualTo(Instant.parse("2026-11-30T10:00:00Z"));
    }

    @Test
    void farWestTheMonthHasNotTurnedWhileUtcIsAlreadyInTheNewOne() {
        // 2026-12-01T10:30Z is 2026-11-30T23:30 at UTC-11.
        var range = UsageRange.of(null, null, DAY, ZoneId.of("Pacific/Pago_Pago"), Instant.parse("2026-12-01T10:30:00Z"));
        assertThat(range.from()).isEqualTo(Instant.parse("2026-11-01T11:00:00Z"));
    }

    @Test
    void datesAreMidnightInTheTenantsZoneAcrossADaylightSavingChange() {
        // New York leaves daylight saving time at 2026-11-01T06:00Z: midnight before is -04:00, after -05:00.
        var range = UsageRange.of("2026-11-01", "2026-11-02", DAY, ZoneId.of("America/New_York"), Instant.parse("2026-11-05T00:00:00Z"));
        assertThat(range).isEqualTo(new UsageRange(Instant.parse("2026-11-01T04:00:00Z"), Instant.parse("2026-11-02T05:00:00Z")));
    }

    @Test
    void emptyAndOversizedRangesAreRefusedWithTheirCodes() {
        Instant now = Instant.parse("2026-11-05T00:00:00Z");
        assertThatThrownBy(() -> UsageRange.of("2026-11-02", "2026-11-02", DAY, UTC, now))
                .isInstanceOfSatisfying(BillingException.Invalid.class, e -> assertThat(e.code()).isEqualTo("invalid_range"));
        assertThatThrownBy(() -> UsageRange.of("2026-11-01", "2026-11-04", MINUTE, UTC, now))
                .isInstanceOfSatisfying(BillingException.Invalid.class, e -> assertThat(e.code()).isEqualTo("range_too_large"));
        assertThatThrownBy(() -> UsageRange.of("yesterday", null, DAY, UTC, now))
                .isInstanceOfSatisfying(BillingException.Invalid.class, e -> assertThat(e.code()).isEqualTo("invalid_from"));
    }
}
