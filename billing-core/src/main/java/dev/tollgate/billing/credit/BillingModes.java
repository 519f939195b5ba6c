package dev.tollgate.billing.credit;

import dev.tollgate.billing.PlanHistory;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.PlanPeriod;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A tenant's billing mode over time from what decides it (ADR 0027): its own choices, the plans it is on, and each plan's
 * mode. The ledger publishes the result on the tenant's state ({@code TenantState.billingModes}), which the gateway and the
 * projector read; the audit computes the same from the ledger's log. One rule for both: at any instant a mode the tenant
 * chose itself wins; without one (never chosen, or cleared since) the tenant pays as the plan in force then says, as that
 * plan was defined then; a plan that never said pays POSTPAID. "In force then" as known then: a plan assigned with an
 * effective time in the past (a backfill, which re-prices open invoices, ADR 0017) decides the mode only from the time it
 * was recorded, because usage already billed is never billed in another mode (the gateway admitted it, the projector
 * burned or invoiced it, under the mode it had).
 */
public final class BillingModes {
    private BillingModes() {}

    /** The tenant's own choice from {@code effectiveFrom} on: a mode, or null to follow its plan's again. */
    public record Choice(BillingMode mode, Instant effectiveFrom) {}

    /** A plan assignment and when the ledger recorded it. */
    public record Assignment(String planId, Instant effectiveFrom, Instant recordedAt) {}

    /**
     * The tenant's effective history, oldest first, one entry per change (none: POSTPAID throughout).
     *
     * @param own         its choices in the order made (a later one at the same effective time replaces the earlier)
     * @param assignments its plan assignments in the order recorded
     * @param planModes   each plan's mode history, oldest first (a plan absent or without entries is POSTPAID)
     */
    public static List<BillingModePeriod> effective(List<Choice> own, List<Assignment> assignments,
                                                    Map<String, List<BillingModePeriod>> planModes) {
        List<Choice> choices = ordered(own);
        List<Assignment> recorded = assignments == null ? List.of() : assignments;
        var changes = new TreeSet<Instant>();
        choices.forEach(c -> changes.add(c.effectiveFrom()));
        recorded.forEach(a -> {
            changes.add(a.effectiveFrom());
            changes.add(a.recordedAt());
            planModes.getOrDefault(a.planId(), List.of()).forEach(m -> changes.add(m.effectiveFrom()));
        });
        var history = new ArrayList<BillingModePeriod>();
        BillingMode previous = BillingMode.POSTPAID;
        for (Instant at : changes) {
            BillingMode mode = modeAt(choices, knownAt(recorded, at), planModes, at);
            if (mode != previous) {
                history.add(new BillingModePeriod(mode, at));
                previous = mode;
            }
        }
        return List.copyOf(history);
    }

    /** A plan's mode history with its definition at {@code at} (a new entry only when the mode changes). */
    public static List<BillingModePeriod> withPlanMode(List<BillingModePeriod> history, BillingMode mode, Instant at) {
        BillingMode before = CreditBurn.modeAt(history, at);
        if (before == mode) {
            return history;
        }
        var next = new ArrayList<>(history);
        next.add(new BillingModePeriod(mode, at));
        next.sort(Comparator.comparing(BillingModePeriod::effectiveFrom));
        return List.copyOf(next);
    }

    private static BillingMode modeAt(List<Choice> choices, PlanHistory plans, Map<String, List<BillingModePeriod>> planModes, Instant at) {
        Choice inForce = null;
        for (Choice choice : choices) {
            if (!choice.effectiveFrom().isAfter(at)) {
                inForce = choice;
            }
        }
        if (inForce != null && inForce.mode() != null) {
            return inForce.mode();
        }
        return plans.planAt(at).map(plan -> CreditBurn.modeAt(planModes.get(plan), at)).orElse(BillingMode.POSTPAID);
    }

    /** The plan history as the ledger knew it at {@code time}: the assignments recorded by then. */
    private static PlanHistory knownAt(List<Assignment> assignments, Instant time) {
        PlanHistory history = PlanHistory.empty();
        for (Assignment assignment : assignments) {
            if (!assignment.recordedAt().isAfter(time)) {
                history = history.with(new PlanPeriod(assignment.planId(), assignment.effectiveFrom()));
            }
        }
        return history;
    }

    /** Oldest effective time first; of choices at the same effective time, the one made last. */
    private static List<Choice> ordered(List<Choice> own) {
        var byTime = new ArrayList<Choice>();
        for (Choice choice : own == null ? List.<Choice>of() : own) {
            byTime.removeIf(c -> c.effectiveFrom().equals(choice.effectiveFrom()));
            byTime.add(choice);
        }
        byTime.sort(Comparator.comparing(Choice::effectiveFrom));
        return byTime;
    }
}
