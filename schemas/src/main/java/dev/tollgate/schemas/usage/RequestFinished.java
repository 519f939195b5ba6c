package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.nonNegativeOrNull;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * The terminal event of a request: {@code usage.request.completed}, {@code usage.request.failed}
 * or {@code usage.request.cancelled} (the envelope's type says which).
 *
 * <p>{@code usage} is the final, billable total. Completion tokens already reported by
 * {@code tokens.streamed} events are {@code completionTokensStreamed}; a consumer that sums streamed
 * deltas adds only {@link #completionTokensRemainder()} from this event, so no token is counted twice.
 *
 * @param upstreamUsage what the upstream itself reported, when it did (for reconciliation)
 * @param error         required for {@code failed}; the error the client received
 * @param cancelReason  for {@code cancelled}: {@code client_disconnect}, {@code quota_exhausted}, ...
 * @param reasoningTokensStreamed the part of {@code completionTokensStreamed} that was reasoning (optional, added in v1,
 *                      ADR 0030: absent when none)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestFinished(
        String requestId,
        String tenantId,
        String keyId,
        String model,
        Endpoint endpoint,
        String upstream,
        TokenUsage usage,
        @JsonProperty(required = true) long completionTokensStreamed,
        @JsonProperty(required = true) long latencyMs,
        Long timeToFirstTokenMs,
        TokenUsage upstreamUsage,
        RequestError error,
        String cancelReason,
        Long reasoningTokensStreamed) implements EventData {

    public RequestFinished {
        requiredText(requestId, "requestId");
        requiredText(tenantId, "tenantId");
        requiredText(keyId, "keyId");
        requiredText(model, "model");
        required(endpoint, "endpoint");
        required(usage, "usage");
        nonNegative(completionTokensStreamed, "completionTokensStreamed");
        nonNegative(latencyMs, "latencyMs");
        nonNegativeOrNull(timeToFirstTokenMs, "timeToFirstTokenMs");
        if (reasoningTokensStreamed != null && (reasoningTokensStreamed < 0 || reasoningTokensStreamed > completionTokensStreamed)) {
            throw new IllegalArgumentException("field 'reasoningTokensStreamed' (" + reasoningTokensStreamed
                    + ") must be from 0 to 'completionTokensStreamed' (" + completionTokensStreamed + ")");
        }
        reasoningTokensStreamed = reasoningTokensStreamed == null || reasoningTokensStreamed == 0 ? null : reasoningTokensStreamed;
        if (completionTokensStreamed > usage.completionTokens()) {
            throw new IllegalArgumentException("field 'completionTokensStreamed' (" + completionTokensStreamed
                    + ") exceeds 'usage.completionTokens' (" + usage.completionTokens() + ")");
        }
    }

    /** A terminal event whose streamed deltas had no reasoning part (or of a gateway from before ADR 0030). */
    public RequestFinished(String requestId, String tenantId, String keyId, String model, Endpoint endpoint, String upstream,
                           TokenUsage usage, long completionTokensStreamed, long latencyMs, Long timeToFirstTokenMs,
                           TokenUsage upstreamUsage, RequestError error, String cancelReason) {
        this(requestId, tenantId, keyId, model, endpoint, upstream, usage, completionTokensStreamed, latencyMs, timeToFirstTokenMs,
                upstreamUsage, error, cancelReason, null);
    }

    /** The reasoning part of the streamed deltas, 0 when the event says none. */
    public long reasoningStreamed() {
        return reasoningTokensStreamed == null ? 0 : reasoningTokensStreamed;
    }

    /** Completion tokens that no {@code tokens.streamed} event counted. */
    public long completionTokensRemainder() {
        return usage.completionTokens() - completionTokensStreamed;
    }
}
