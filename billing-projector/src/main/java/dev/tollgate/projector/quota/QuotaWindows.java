package dev.tollgate.projector.quota;

import dev.tollgate.billing.BillingPeriod;
import dev.tollgate.schemas.state.QuotaState;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

/** The day and billing-period windows an event time falls in, in the tenant's billing time zone. */
final class QuotaWindows {
    private QuotaWindows() {}

    /** {@code [start, end)} of the window of {@code kind} that contains {@code time}. */
    static Instant[] bounds(QuotaState.Window kind, Instant time, ZoneId zone) {
        return switch (kind) {
            case DAY -> {
                LocalDate day = time.atZone(zone).toLocalDate();
                yield new Instant[] {day.atStartOfDay(zone).toInstant(), day.plusDays(1).atStartOfDay(zone).toInstant()};
            }
            case BILLING_PERIOD -> {
                BillingPeriod period = BillingPeriod.containing(time, zone);
                yield new Instant[] {period.start(), period.end()};
            }
            case CREDIT -> new Instant[] {QuotaState.CREDIT_WINDOW_START, QuotaState.CREDIT_WINDOW_END};
        };
    }
}
