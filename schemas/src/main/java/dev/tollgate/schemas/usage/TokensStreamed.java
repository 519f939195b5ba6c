package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
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
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TokensStreamed(
        String requestId,
        String tenantId,
        String keyId,
        String model,
        @JsonProperty(required = true) long sequence,
        @JsonProperty(required = true) long completionTokens) implements EventData {

    public TokensStreamed {
        requiredText(requestId, "requestId");
        requiredText(tenantId, "tenantId");
        requiredText(keyId, "keyId");
        requiredText(model, "model");
        if (sequence < 1) {
            throw new IllegalArgumentException("field 'sequence' must be >= 1, was " + sequence);
        }
        nonNegative(completionTokens, "completionTokens");
    }
}
