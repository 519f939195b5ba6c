package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.quota.Budgets;
import dev.tollgate.gateway.quota.RateLimits;

import java.time.Instant;

/** What an admitted request holds: its rate-limit admission and its budget hold (null without budgets). */
record Holds(RateLimits.Admission admission, Budgets.Hold budget) {
    /** Gives everything back: the request never reached an upstream. */
    void release() {
        admission.settle(0);
        if (budget != null) {
            budget.settle(0, 0, 0, Instant.now());
        }
    }

    void settle(long uncachedPrompt, long cachedPrompt, long completion) {
        admission.settle(uncachedPrompt + cachedPrompt + completion);
        if (budget != null) {
            budget.settle(uncachedPrompt, cachedPrompt, completion, Instant.now());
        }
    }
}
