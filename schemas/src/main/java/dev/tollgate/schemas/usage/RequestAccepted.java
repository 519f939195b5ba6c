package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * The gateway admitted a request and reserved quota for it ({@code usage.request.accepted}).
 * Not a charge: charges come from the streamed and final events.
 *
 * @param upstream             the endpoint chosen ({@code pool/endpoint}); null if not routed yet
 * @param promptTokensEstimate the gateway's estimate of prompt tokens, reserved against quotas
 * @param maxTokensReserved    completion tokens reserved ({@code max_tokens} or the model's cap)
 * @param priorityClass        the scheduling class the request was queued and sent in (optional, added in v1)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestAccepted(
        String requestId,
        String tenantId,
        String keyId,
        String model,
        Endpoint endpoint,
        @JsonProperty(required = true) boolean stream,
        String upstream,
        @JsonProperty(required = true) long promptTokensEstimate,
        @JsonProperty(required = true) long maxTokensReserved,
        String priorityClass) implements EventData {

    public RequestAccepted {
        requiredText(requestId, "requestId");
        requiredText(tenantId, "tenantId");
        requiredText(keyId, "keyId");
        requiredText(model, "model");
        required(endpoint, "endpoint");
        nonNegative(promptTokensEstimate, "promptTokensEstimate");
        nonNegative(maxTokensReserved, "maxTokensReserved");
    }

    /** An acceptance without a scheduling class, as published before classes existed. */
    public RequestAccepted(String requestId, String tenantId, String keyId, String model, Endpoint endpoint, boolean stream,
                           String upstream, long promptTokensEstimate, long maxTokensReserved) {
        this(requestId, tenantId, keyId, model, endpoint, stream, upstream, promptTokensEstimate, maxTokensReserved, null);
    }
}
