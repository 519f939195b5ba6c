package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import static dev.tollgate.schemas.event.Fields.nonNegativeOrNull;

/**
 * Quota limits of a tenant or of one key. A null limit means "no limit of this kind".
 *
 * @param spendPerPeriodMicros spend per billing period, in micro-units of the tenant's currency
 * @param spendLimitMode       whether reaching the spend limit refuses requests (HARD) or only flags them (SOFT)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Limits(
        Long requestsPerMinute,
        Long tokensPerMinute,
        Long tokensPerDay,
        Long spendPerPeriodMicros,
        SpendLimitMode spendLimitMode,
        Long maxConcurrentRequests) {

    /** No limit of any kind. */
    public static final Limits NONE = new Limits(null, null, null, null, null, null);

    /** Hard refuses at the limit; soft serves and flags. */
    public enum SpendLimitMode { HARD, SOFT }

    public Limits {
        nonNegativeOrNull(requestsPerMinute, "requestsPerMinute");
        nonNegativeOrNull(tokensPerMinute, "tokensPerMinute");
        nonNegativeOrNull(tokensPerDay, "tokensPerDay");
        nonNegativeOrNull(spendPerPeriodMicros, "spendPerPeriodMicros");
        nonNegativeOrNull(maxConcurrentRequests, "maxConcurrentRequests");
        if (spendPerPeriodMicros != null && spendLimitMode == null) {
            spendLimitMode = SpendLimitMode.HARD;
        }
    }
}
