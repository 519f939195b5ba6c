package dev.tollgate.ledger.publish;

import dev.tollgate.schemas.ledger.Limits;

/** A tenant's limits: each of its own limits overrides the plan's default of the same kind. */
final class EffectiveLimits {
    private EffectiveLimits() {}

    static Limits merge(Limits plan, Limits own) {
        if (plan == null) {
            return own == null ? Limits.NONE : own;
        }
        if (own == null) {
            return plan;
        }
        boolean ownSpend = own.spendPerPeriodMicros() != null;
        return new Limits(
                pick(own.requestsPerMinute(), plan.requestsPerMinute()),
                pick(own.tokensPerMinute(), plan.tokensPerMinute()),
                pick(own.tokensPerDay(), plan.tokensPerDay()),
                ownSpend ? own.spendPerPeriodMicros() : plan.spendPerPeriodMicros(),
                ownSpend ? own.spendLimitMode() : plan.spendLimitMode(),
                pick(own.maxConcurrentRequests(), plan.maxConcurrentRequests()),
                own.priorityClass() != null ? own.priorityClass() : plan.priorityClass(),
                own.queueWeight() != null ? own.queueWeight() : plan.queueWeight(),
                own.endpoints() != null ? own.endpoints() : plan.endpoints());
    }

    private static Long pick(Long own, Long plan) {
        return own != null ? own : plan;
    }
}
