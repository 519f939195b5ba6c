package dev.tollgate.billing;

import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.TenantState;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Which plan a tenant is on at any instant: every assignment with its effective time, past and
 * scheduled. The one rule, used by the gateway, the projector and the audit alike: the plan in
 * force at {@code t} is the assignment with the latest effective time at or before {@code t}; usage
 * before the first assignment (only possible through clock skew, since a tenant is created with its
 * plan) is priced with the first plan. A plan scheduled for next month changes nothing before then.
 * Immutable; a handful of entries, so lookups scan.
 */
public final class PlanHistory {
    private static final PlanHistory NONE = new PlanHistory(List.of());
    private static final Comparator<PlanPeriod> BY_TIME = Comparator.comparing(PlanPeriod::effectiveFrom);

    /** Oldest effective time first, one entry per effective time. */
    private final List<PlanPeriod> periods;

    private PlanHistory(List<PlanPeriod> periods) {
        this.periods = periods;
    }

    /** A tenant without any plan. */
    public static PlanHistory empty() {
        return NONE;
    }

    /** The history a tenant state carries; a state published before histories existed has one plan, from the beginning. */
    public static PlanHistory of(TenantState tenant) {
        if (tenant == null) {
            return NONE;
        }
        List<PlanPeriod> plans = tenant.plans();
        if (plans != null && !plans.isEmpty()) {
            // The ledger publishes them in order, one per effective time: wrap them as they are (this runs per usage event).
            return isOrderedAndDistinct(plans) ? new PlanHistory(plans) : of(plans);
        }
        return tenant.planId() == null ? NONE : new PlanHistory(List.of(new PlanPeriod(tenant.planId(), Instant.EPOCH)));
    }

    private static boolean isOrderedAndDistinct(List<PlanPeriod> plans) {
        for (int i = 1; i < plans.size(); i++) {
            if (!plans.get(i - 1).effectiveFrom().isBefore(plans.get(i).effectiveFrom())) {
                return false;
            }
        }
        return true;
    }

    /** A history of these assignments in the order they were made (a later one at the same effective time replaces the earlier). */
    public static PlanHistory of(List<PlanPeriod> assignments) {
        PlanHistory history = NONE;
        for (PlanPeriod assignment : assignments) {
            history = history.with(assignment);
        }
        return history;
    }

    /** This history and one more assignment, made after every one already in it. */
    public PlanHistory with(PlanPeriod assignment) {
        var next = new ArrayList<PlanPeriod>(periods.size() + 1);
        for (PlanPeriod period : periods) {
            if (!period.effectiveFrom().equals(assignment.effectiveFrom())) {
                next.add(period);
            }
        }
        next.add(assignment);
        next.sort(BY_TIME);
        return new PlanHistory(List.copyOf(next));
    }

    /** The plan in force at {@code time}, if the tenant has any plan. */
    public Optional<String> planAt(Instant time) {
        if (periods.isEmpty()) {
            return Optional.empty();
        }
        PlanPeriod inForce = periods.getFirst();
        for (PlanPeriod period : periods) {
            if (period.effectiveFrom().isAfter(time)) {
                break;
            }
            inForce = period;
        }
        return Optional.of(inForce.planId());
    }

    /** The first effective time after {@code time} at which another assignment takes over, if one is scheduled. */
    public Optional<Instant> nextSwitchAfter(Instant time) {
        for (PlanPeriod period : periods) {
            if (period.effectiveFrom().isAfter(time)) {
                return Optional.of(period.effectiveFrom());
            }
        }
        return Optional.empty();
    }

    /** Every assignment, oldest effective time first. */
    public List<PlanPeriod> periods() {
        return periods;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PlanHistory history && history.periods.equals(periods);
    }

    @Override
    public int hashCode() {
        return periods.hashCode();
    }

    @Override
    public String toString() {
        return "PlanHistory" + periods;
    }
}
