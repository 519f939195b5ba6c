package dev.tollgate.billing;

import dev.tollgate.schemas.usage.Endpoint;

import java.time.Instant;
import java.util.Objects;

/**
 * The billable content of one usage event, independent of its wire format: the projector and the
 * audit replay both map events to this, so both price the very same numbers.
 *
 * @param eventId          the event's id (the idempotency key; digested into the invoice line)
 * @param time             the event time (decides the billing period and the price in force)
 * @param uncachedPrompt   prompt tokens at the input price
 * @param cachedPrompt     prompt tokens at the cached-input price
 * @param completion       completion tokens at the output price
 * @param endpoint         the API the request was made to (which credit grants can pay for it); null when the event does
 *                         not say (an older gateway's) or the caller only prices it
 */
public record BillableUsage(String eventId, String tenantId, String keyId, String model, Instant time,
                            long uncachedPrompt, long cachedPrompt, long completion, Endpoint endpoint) {
    public BillableUsage {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(time, "time");
        if (uncachedPrompt < 0 || cachedPrompt < 0 || completion < 0) {
            throw new IllegalArgumentException("token counts are never negative");
        }
    }

    /** Usage to price only: the endpoint does not matter. */
    public BillableUsage(String eventId, String tenantId, String keyId, String model, Instant time, long uncachedPrompt, long cachedPrompt,
                         long completion) {
        this(eventId, tenantId, keyId, model, time, uncachedPrompt, cachedPrompt, completion, null);
    }
}
