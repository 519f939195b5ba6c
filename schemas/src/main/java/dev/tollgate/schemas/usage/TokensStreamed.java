package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * Completion tokens delivered to the client since the previous {@code tokens.streamed} event of
 * the same request ({@code usage.tokens.streamed}). Coalesced by the gateway; each token delivered
 * is counted in exactly one such event or in the remainder of the terminal event.
 *
 * @param sequence         1, 2, 3 ... per request; lets a consumer spot a gap
 * @param completionTokens the delta, never a running total
 * @param endpoint         the API the request was made to (optional, added in v1: absent in events of older gateways)
 * @param reasoningTokens  the part of the delta that was reasoning (optional, added in v1, ADR 0030: absent when none)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TokensStreamed(
        String requestId,
        String tenantId,
        String keyId,
        String model,
        @JsonProperty(required = true) long sequence,
        @JsonProperty(required = true) long completionTokens,
        @JsonInclude(JsonInclude.Include.NON_NULL) Endpoint endpoint,
        @JsonInclude(JsonInclude.Include.NON_NULL) Long reasoningTokens) implements EventData {

    public TokensStreamed {
        requiredText(requestId, "requestId");
        requiredText(tenantId, "tenantId");
        requiredText(keyId, "keyId");
        requiredText(model, "model");
        if (sequence < 1) {
            throw new IllegalArgumentException("field 'sequence' must be >= 1, was " + sequence);
        }
        nonNegative(completionTokens, "completionTokens");
        if (reasoningTokens != null && (reasoningTokens < 0 || reasoningTokens > completionTokens)) {
            throw new IllegalArgumentException("field 'reasoningTokens' (" + reasoningTokens + ") must be from 0 to 'completionTokens' ("
                    + completionTokens + ")");
        }
        reasoningTokens = reasoningTokens == null || reasoningTokens == 0 ? null : reasoningTokens;
    }

    /** An event of a delta with no reasoning part. */
    public TokensStreamed(String requestId, String tenantId, String keyId, String model, long sequence, long completionTokens,
                          Endpoint endpoint) {
        this(requestId, tenantId, keyId, model, sequence, completionTokens, endpoint, null);
    }

    /** The reasoning part of the delta, 0 when the event says none. */
    public long reasoning() {
        return reasoningTokens == null ? 0 : reasoningTokens;
    }

    /** An event without its endpoint, as older gateways sent it. */
    public TokensStreamed(String requestId, String tenantId, String keyId, String model, long sequence, long completionTokens) {
        this(requestId, tenantId, keyId, model, sequence, completionTokens, null, null);
    }
}
