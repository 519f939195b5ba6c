package dev.tollgate.console.usage;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;

import static org.assertj.core.api.Assertions.assertThat;

class UsageWindowTest {
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final ZoneId KIRITIMATI = ZoneId.of("Pacific/Kiritimati");
    private static final ZoneId PAGO_PAGO = ZoneId.of("Pacific/Pago_Pago");

    @Test
    void todayHasTwentyFiveHourlySlotsOnTheDayDaylightSavingEnds() {
        Instant now = Instant.parse("2026-10-25T20:00:00Z"); // Berlin leaves summer time at 03:00 local on this day
        var slots = UsageWindow.TODAY.slots(now, BERLIN);
        assertThat(slots).hasSize(25);
        assertThat(slots.get(0).label()).isEqualTo("00:00");
        assertThat(slots.get(2).label()).isEqualTo("02:00");
        assertThat(slots.get(3).label()).isEqualTo("02:00"); // the hour that happens twice
        assertThat(UsageWindow.TODAY.query(now, BERLIN)).isEqualTo(new UsageWindow.Query("minute", "2026-10-25", "2026-10-26"));
    }

    @Test
    void todayHasTwentyThreeSlotsWhenSummerTimeBegins() {
        assertThat(UsageWindow.TODAY.slots(Instant.parse("2026-03-29T12:00:00Z"), BERLIN)).hasSize(23);
    }

    @Test
    void aMinuteBucketFallsInTheHourOfTheTenantsDay() {
        Instant now = Instant.parse("2026-12-31T11:30:00Z"); // already 2027-01-01 01:30 in Kiritimati (UTC+14)
        assertThat(UsageWindow.TODAY.query(now, KIRITIMATI).from()).isEqualTo("2027-01-01");
        String slot = UsageWindow.TODAY.slotOf("2026-12-31T11:05:00Z", now, KIRITIMATI);
        assertThat(slot).isEqualTo("2026-12-31T11:00:00Z");
        assertThat(UsageWindow.TODAY.slots(now, KIRITIMATI).stream().filter(s -> s.key().equals(slot)).findFirst().orElseThrow().label())
                .isEqualTo("01:00");
    }

    @Test
    void thisMonthIsTheTenantsMonthOnTheFirstAndOnTheLastDay() {
        // 2027-01-01 00:30 in Kiritimati, still 2026-12-31 in Pago Pago (UTC-11)
        Instant now = Instant.parse("2026-12-31T10:30:00Z");
        assertThat(UsageWindow.MONTH.query(now, KIRITIMATI)).isEqualTo(new UsageWindow.Query("day", "2027-01-01", "2027-02-01"));
        assertThat(UsageWindow.MONTH.slots(now, KIRITIMATI)).hasSize(31);
        assertThat(UsageWindow.MONTH.query(now, PAGO_PAGO)).isEqualTo(new UsageWindow.Query("day", "2026-12-01", "2027-01-01"));
        assertThat(UsageWindow.MONTH.slots(Instant.parse("2028-02-10T00:00:00Z"), PAGO_PAGO)).hasSize(29);
    }

    @Test
    void theLastTwelveMonthsEndWithThisOne() {
        var slots = UsageWindow.YEAR.slots(Instant.parse("2026-03-01T00:00:00Z"), ZoneId.of("UTC"));
        assertThat(slots).hasSize(12);
        assertThat(slots.get(0).key()).isEqualTo("2025-04");
        assertThat(slots.get(11).key()).isEqualTo("2026-03");
        assertThat(UsageWindow.YEAR.query(Instant.parse("2026-03-01T00:00:00Z"), ZoneId.of("UTC")))
                .isEqualTo(new UsageWindow.Query("month", "2025-04-01", "2026-04-01"));
    }

    @Test
    void theLastHourHasSixtyMinutesEndingWithTheCurrentOne() {
        Instant now = Instant.parse("2026-12-03T14:42:31Z");
        var slots = UsageWindow.HOUR.slots(now, ZoneId.of("Asia/Kathmandu"));
        assertThat(slots).hasSize(60);
        assertThat(slots.get(59).key()).isEqualTo("2026-12-03T14:42:00Z");
        assertThat(slots.get(59).label()).isEqualTo("20:27"); // +05:45
        assertThat(UsageWindow.HOUR.query(now, ZoneId.of("UTC"))).isEqualTo(new UsageWindow.Query("minute", "2026-12-03T13:43:00Z",
                "2026-12-03T14:43:00Z"));
    }

    @Test
    void anUnknownWindowNameMeansToday() {
        assertThat(UsageWindow.parse("fortnight")).isEqualTo(UsageWindow.TODAY);
        assertThat(UsageWindow.parse("month")).isEqualTo(UsageWindow.MONTH);
    }
}
