package dev.tollgate.console.pricing;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.tollgate.console.pricing.PriceListStatus.Status.IN_FORCE;
import static dev.tollgate.console.pricing.PriceListStatus.Status.SCHEDULED;
import static dev.tollgate.console.pricing.PriceListStatus.Status.SUPERSEDED;
import static org.assertj.core.api.Assertions.assertThat;

class PriceListStatusTest {

    private static Map<String, Object> list(String plan, String from) {
        return Map.of("planId", plan, "effectiveFrom", from);
    }

    @Test
    void theLatestListWhoseTimeHasComeIsInForceLaterOnesAreScheduled() {
        var lists = List.of(list("dev", "2026-11-01T00:00:00Z"), list("dev", "2026-12-01T00:00:00Z"), list("dev", "2027-01-01T00:00:00Z"),
                list("pro", "2027-01-01T00:00:00Z"));
        var dated = PriceListStatus.at(lists, Instant.parse("2026-12-31T23:59:59Z"));
        assertThat(dated).extracting(PriceListStatus.Dated::status).containsExactly(SUPERSEDED, IN_FORCE, SCHEDULED, SCHEDULED);
    }

    @Test
    void aListTakesForceAtItsEffectiveInstantExactly() {
        var lists = List.of(list("dev", "2026-11-01T00:00:00Z"), list("dev", "2027-01-01T00:00:00Z"));
        assertThat(PriceListStatus.at(lists, Instant.parse("2027-01-01T00:00:00Z"))).extracting(PriceListStatus.Dated::status)
                .containsExactly(SUPERSEDED, IN_FORCE);
    }
}
