package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.key.KeyScopes;
import dev.tollgate.schemas.usage.Endpoint;

import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static dev.tollgate.schemas.event.Fields.nonNegativeOrNull;

/**
 * Quota limits of a tenant or of one key. A null limit means "no limit of this kind".
 *
 * @param spendPerPeriodMicros spend per billing period, in micro-units of the tenant's currency
 * @param spendLimitMode       whether reaching the spend limit refuses requests (HARD) or only flags them (SOFT)
 * @param priorityClass        the scheduling class of the requests (e.g. {@code interactive}, {@code standard},
 *                             {@code batch}; the gateway's configuration orders them): on a plan or tenant, the
 *                             class of its requests; on a key, a class it moves its own requests down to (never
 *                             above its tenant's). Null: the tenant's, else the gateway's default class
 *                             (optional, added in v1)
 * @param queueWeight          the tenant's share of a saturated pool relative to the other tenants of its class
 *                             (1 to {@value #MAX_QUEUE_WEIGHT}; null = 1); tenants and plans only
 *                             (optional, added in v1)
 * @param endpoints            the endpoints that may be called, by their scope names ({@link KeyScopes#ENDPOINTS}): on a
 *                             plan, what its tenants may call; on a tenant, what it may (replacing its plan's); on a key,
 *                             what the key may, within its tenant's. Null: every endpoint; empty: none (optional, added in
 *                             v1; issue #20)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Limits(
        Long requestsPerMinute,
        Long tokensPerMinute,
        Long tokensPerDay,
        Long spendPerPeriodMicros,
        SpendLimitMode spendLimitMode,
        Long maxConcurrentRequests,
        String priorityClass,
        Integer queueWeight,
        List<String> endpoints) {

    /** No limit of any kind. */
    public static final Limits NONE = new Limits(null, null, null, null, null, null);

    /** The largest fair-share weight. */
    public static final int MAX_QUEUE_WEIGHT = 1_000;

    private static final Pattern CLASS_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

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
        if (priorityClass != null && !CLASS_NAME.matcher(priorityClass).matches()) {
            throw new IllegalArgumentException("priorityClass must be 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter");
        }
        if (queueWeight != null && (queueWeight < 1 || queueWeight > MAX_QUEUE_WEIGHT)) {
            throw new IllegalArgumentException("queueWeight must be between 1 and " + MAX_QUEUE_WEIGHT);
        }
        if (endpoints != null) {
            List<String> unknown = endpoints.stream().filter(e -> e == null || !KeyScopes.ENDPOINTS.contains(e)).toList();
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("endpoints must name endpoints " + new TreeSet<>(KeyScopes.ENDPOINTS) + ", not " + unknown);
            }
            endpoints = List.copyOf(endpoints);
        }
    }

    /** Limits without an endpoint list (every endpoint), as written before it existed. */
    public Limits(Long requestsPerMinute, Long tokensPerMinute, Long tokensPerDay, Long spendPerPeriodMicros,
                  SpendLimitMode spendLimitMode, Long maxConcurrentRequests, String priorityClass, Integer queueWeight) {
        this(requestsPerMinute, tokensPerMinute, tokensPerDay, spendPerPeriodMicros, spendLimitMode, maxConcurrentRequests, priorityClass,
                queueWeight, null);
    }

    /** True if these limits let {@code endpoint} be called: no endpoint list, or one that names it. */
    public boolean allows(Endpoint endpoint) {
        return endpoints == null || endpoints.contains(KeyScopes.of(endpoint));
    }

    /** Limits without scheduling settings, as written before they existed. */
    public Limits(Long requestsPerMinute, Long tokensPerMinute, Long tokensPerDay, Long spendPerPeriodMicros,
                  SpendLimitMode spendLimitMode, Long maxConcurrentRequests) {
        this(requestsPerMinute, tokensPerMinute, tokensPerDay, spendPerPeriodMicros, spendLimitMode, maxConcurrentRequests, null, null,
                null);
    }
}
