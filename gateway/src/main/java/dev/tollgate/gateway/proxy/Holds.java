package dev.tollgate.gateway.proxy;

import dev.tollgate.billing.UsageCounts;
import dev.tollgate.gateway.quota.Budgets;
import dev.tollgate.gateway.quota.RateLimits;

import java.time.Instant;

/** What an admitted request holds: its rate-limit admission and its budget hold (null without budgets). */
record Holds(RateLimits.Admission admission, Budgets.Hold budget) {
    /** Gives everything back: the request never reached an upstream. */
    void release() {
        admission.settle(0);
        if (budget != null) {
            budget.settle(UsageCounts.NONE, Instant.now());
        }
    }

    /** Ends both with what the request's usage events bill in all. */
    void settle(UsageCounts billed) {
        admission.settle(billed.totalTokens());
        if (budget != null) {
            budget.settle(billed, Instant.now());
        }
    }
}
