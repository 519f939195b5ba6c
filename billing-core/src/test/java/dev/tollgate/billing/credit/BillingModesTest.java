package dev.tollgate.billing.credit;

import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.PlanPeriod;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BillingModesTest {
    // Month ends in Kiritimati (UTC+14) and Pago Pago (UTC-11), where plan switches are scheduled.
    private static final Instant CREATED = Instant.parse("2026-10-01T00:00:00Z");
    private static final Instant KIRITIMATI_DEC_1 = Instant.parse("2026-11-30T10:00:00Z");
    private static final Instant PAGO_PAGO_DEC_1 = Instant.parse("2026-12-01T11:00:00Z");
    private static final Instant STARTER_PREPAID_FROM = Instant.parse("2026-11-10T12:00:00Z");

    private static final Map<String, List<BillingModePeriod>> PLAN_MODES = Map.of(
            "starter", BillingModes.withPlanMode(BillingModes.withPlanMode(List.of(), BillingMode.POSTPAID, CREATED), BillingMode.PREPAID,
                    STARTER_PREPAID_FROM),
            "scale", List.of(new BillingModePeriod(BillingMode.HYBRID, CREATED)));

    /** Assignments recorded when they took effect. */
    private static List<BillingModes.Assignment> plans(PlanPeriod... periods) {
        return Arrays.stream(periods).map(p -> new BillingModes.Assignment(p.planId(), p.effectiveFrom(), p.effectiveFrom())).toList();
    }

    @Test
    void aTenantPaysAsItsPlanInForceSaysAsThatPlanWasDefinedThen() {
        List<BillingModes.Assignment> history = plans(new PlanPeriod("starter", CREATED), new PlanPeriod("scale", KIRITIMATI_DEC_1),
                new PlanPeriod("enterprise", PAGO_PAGO_DEC_1));

        assertThat(BillingModes.effective(null, history, PLAN_MODES)).containsExactly(
                new BillingModePeriod(BillingMode.PREPAID, STARTER_PREPAID_FROM),   // starter became prepaid while the tenant was on it
                new BillingModePeriod(BillingMode.HYBRID, KIRITIMATI_DEC_1),        // then the hybrid plan
                new BillingModePeriod(BillingMode.POSTPAID, PAGO_PAGO_DEC_1));      // a plan that never said is postpaid
    }

    @Test
    void theTenantsOwnModeWinsUntilItIsClearedAndNothingChangesTwice() {
        List<BillingModes.Assignment> history = plans(new PlanPeriod("scale", CREATED));
        Instant ownFrom = Instant.parse("2026-11-01T00:00:00Z");
        Instant clearedFrom = Instant.parse("2026-12-01T00:00:00Z");

        List<BillingModePeriod> modes = BillingModes.effective(List.of(new BillingModes.Choice(BillingMode.PREPAID, ownFrom),
                new BillingModes.Choice(null, clearedFrom)), history, PLAN_MODES);

        assertThat(modes).containsExactly(new BillingModePeriod(BillingMode.HYBRID, CREATED), new BillingModePeriod(BillingMode.PREPAID, ownFrom),
                new BillingModePeriod(BillingMode.HYBRID, clearedFrom));
        assertThat(CreditBurn.modeAt(modes, clearedFrom.minusMillis(1))).isEqualTo(BillingMode.PREPAID);
        assertThat(CreditBurn.modeAt(modes, clearedFrom)).isEqualTo(BillingMode.HYBRID);
        // An own mode equal to the plan's changes nothing; the later of two choices at one time wins.
        assertThat(BillingModes.effective(List.of(new BillingModes.Choice(BillingMode.PREPAID, ownFrom),
                new BillingModes.Choice(BillingMode.HYBRID, ownFrom)), history, PLAN_MODES))
                .containsExactly(new BillingModePeriod(BillingMode.HYBRID, CREATED));
    }

    @Test
    void withoutModesAnywhereATenantIsPostpaidThroughoutAsBeforePlansHadModes() {
        assertThat(BillingModes.effective(null, plans(new PlanPeriod("enterprise", CREATED)), PLAN_MODES)).isEmpty();
        assertThat(BillingModes.effective(List.of(), List.of(), Map.of())).isEmpty();
        // A tenant's own modes alone give its own history, as before plans had modes.
        assertThat(BillingModes.effective(List.of(new BillingModes.Choice(BillingMode.PREPAID, CREATED),
                new BillingModes.Choice(BillingMode.POSTPAID, KIRITIMATI_DEC_1)), List.of(), Map.of()))
                .containsExactly(new BillingModePeriod(BillingMode.PREPAID, CREATED), new BillingModePeriod(BillingMode.POSTPAID, KIRITIMATI_DEC_1));
    }

    @Test
    void aPlanAssignedWithAPastEffectiveTimeDecidesTheModeOnlyFromWhenItWasRecorded() {
        Instant backfilledFrom = Instant.parse("2026-11-01T00:00:00Z");
        Instant recordedAt = Instant.parse("2026-11-20T09:30:00Z");
        var assignments = new ArrayList<>(plans(new PlanPeriod("enterprise", CREATED)));
        assignments.add(new BillingModes.Assignment("scale", backfilledFrom, recordedAt));

        // Usage of November 1-20 was billed postpaid (enterprise, as known then) and stays so; the hybrid plan counts from then on.
        assertThat(BillingModes.effective(null, assignments, PLAN_MODES)).containsExactly(new BillingModePeriod(BillingMode.HYBRID, recordedAt));
        // Scheduled ahead of time, it counts from its effective time.
        var scheduled = new ArrayList<>(plans(new PlanPeriod("enterprise", CREATED)));
        scheduled.add(new BillingModes.Assignment("scale", KIRITIMATI_DEC_1, backfilledFrom));
        assertThat(BillingModes.effective(null, scheduled, PLAN_MODES)).containsExactly(new BillingModePeriod(BillingMode.HYBRID, KIRITIMATI_DEC_1));
    }

    @Test
    void aPlanDefinedAgainWithTheSameModeAddsNothingToItsHistory() {
        List<BillingModePeriod> history = BillingModes.withPlanMode(List.of(), BillingMode.PREPAID, CREATED);
        assertThat(BillingModes.withPlanMode(history, BillingMode.PREPAID, KIRITIMATI_DEC_1)).isSameAs(history);
        assertThat(BillingModes.withPlanMode(List.of(), BillingMode.POSTPAID, CREATED)).isEmpty();
    }
}
