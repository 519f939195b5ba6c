package dev.tollgate.billing;

import dev.tollgate.schemas.usage.Endpoint;

import java.time.Instant;
import java.util.Objects;

/**
 * The billable content of one usage event, independent of its wire format: the projector and the
 * audit replay both map events to this, so both price the very same numbers.
 *
 * @param eventId  the event's id (the idempotency key; digested into the invoice line)
 * @param time     the event time (decides the billing period and the price in force)
 * @param counts   what the event bills, per unit
 * @param endpoint the API the request was made to (which credit grants can pay for it); null when the event does
 *                 not say (an older gateway's) or the caller only prices it
 */
public record BillableUsage(String eventId, String tenantId, String keyId, String model, Instant time, UsageCounts counts,
                            Endpoint endpoint) {
    public BillableUsage {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(counts, "counts");
    }

    /** Token usage only, as before ADR 0030. */
    public BillableUsage(String eventId, String tenantId, String keyId, String model, Instant time, long uncachedPrompt, long cachedPrompt,
                         long completion, Endpoint endpoint) {
        this(eventId, tenantId, keyId, model, time, UsageCounts.tokens(uncachedPrompt, cachedPrompt, completion), endpoint);
    }

    /** Token usage to price only: the endpoint does not matter. */
    public BillableUsage(String eventId, String tenantId, String keyId, String model, Instant time, long uncachedPrompt, long cachedPrompt,
                         long completion) {
        this(eventId, tenantId, keyId, model, time, uncachedPrompt, cachedPrompt, completion, null);
    }

    /** Prompt tokens not read from the cache. */
    public long uncachedPrompt() {
        return counts.uncachedPrompt();
    }

    /** Prompt tokens read from the cache. */
    public long cachedPrompt() {
        return counts.cachedPrompt();
    }

    /** Completion tokens. */
    public long completion() {
        return counts.completion();
    }
}
