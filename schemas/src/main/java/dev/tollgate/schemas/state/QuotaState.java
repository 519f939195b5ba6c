package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.Map;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.nonNegativeOrNull;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * Usage of a tenant (or of one of its keys) against a day or billing-period limit, as the
 * projector has counted it up to {@code asOf} ({@code quota.state.v1}). The gateway adds its own
 * usage since then.
 *
 * @param keyId            null for the tenant as a whole
 * @param asOf             the event time up to which usage is reflected
 * @param sources          per event source (a gateway replica), the newest of its event times reflected here; a
 *                         replica takes its own usage up to that time as counted (ADR 0009). Null from older projectors.
 * @param tokenLimit       null when no token limit of this window applies
 * @param spendLimitMicros null when no spend limit of this window applies
 * @param grantsUsedMicros {@link Window#CREDIT} only: per credit grant, what usage has burned of it (rounded up)
 * @param unfundedMicros   {@link Window#CREDIT} only: prepaid usage no grant could cover yet (rounded up), which the
 *                         next grant pays first; the balance is what is left of the grants minus this (ADR 0027)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QuotaState(
        String tenantId,
        String keyId,
        Window window,
        Instant windowStart,
        Instant windowEnd,
        @JsonProperty(required = true) long usedTokens,
        @JsonProperty(required = true) long usedSpendMicros,
        Long tokenLimit,
        Long spendLimitMicros,
        Status status,
        Instant asOf,
        @JsonProperty(required = true) long version,
        Map<String, Instant> sources,
        Map<String, Long> grantsUsedMicros,
        Long unfundedMicros) implements StateRecord {

    /** Start and end of the {@link Window#CREDIT} window: a balance has no period. */
    public static final Instant CREDIT_WINDOW_START = Instant.EPOCH;
    public static final Instant CREDIT_WINDOW_END = Instant.parse("9999-12-31T23:59:59Z");

    /** A state of a day or billing-period window. */
    public QuotaState(String tenantId, String keyId, Window window, Instant windowStart, Instant windowEnd, long usedTokens,
                      long usedSpendMicros, Long tokenLimit, Long spendLimitMicros, Status status, Instant asOf, long version,
                      Map<String, Instant> sources) {
        this(tenantId, keyId, window, windowStart, windowEnd, usedTokens, usedSpendMicros, tokenLimit, spendLimitMicros, status, asOf,
                version, sources, null, null);
    }

    /** A state without per-source watermarks. */
    public QuotaState(String tenantId, String keyId, Window window, Instant windowStart, Instant windowEnd, long usedTokens,
                      long usedSpendMicros, Long tokenLimit, Long spendLimitMicros, Status status, Instant asOf, long version) {
        this(tenantId, keyId, window, windowStart, windowEnd, usedTokens, usedSpendMicros, tokenLimit, spendLimitMicros, status, asOf,
                version, null);
    }

    /**
     * The quota windows the projector maintains. CREDIT (added in v1 for prepaid tenants, tenant-wide
     * only) is the tenant's whole life: what usage burned of its credit grants.
     */
    public enum Window { DAY, BILLING_PERIOD, CREDIT }

    /** OK; SOFT_LIMIT (served, flagged); EXHAUSTED (hard limit reached: refuse). */
    public enum Status { OK, SOFT_LIMIT, EXHAUSTED }

    public QuotaState {
        requiredText(tenantId, "tenantId");
        required(window, "window");
        required(windowStart, "windowStart");
        required(windowEnd, "windowEnd");
        if (!windowEnd.isAfter(windowStart)) {
            throw new IllegalArgumentException("field 'windowEnd' must be after 'windowStart'");
        }
        nonNegative(usedTokens, "usedTokens");
        nonNegative(usedSpendMicros, "usedSpendMicros");
        nonNegativeOrNull(tokenLimit, "tokenLimit");
        nonNegativeOrNull(spendLimitMicros, "spendLimitMicros");
        required(status, "status");
        required(asOf, "asOf");
        sources = sources == null ? null : Map.copyOf(sources);
        grantsUsedMicros = grantsUsedMicros == null ? null : Map.copyOf(grantsUsedMicros);
        nonNegativeOrNull(unfundedMicros, "unfundedMicros");
    }

    /** The compaction key for a tenant or key and a window kind: the latest window replaces the last. */
    public static String stateKey(String tenantId, String keyId, Window window) {
        return tenantId + "/" + (keyId == null ? "*" : keyId) + "/" + window.name();
    }

    @Override
    public String stateKey() {
        return stateKey(tenantId, keyId, window);
    }
}
