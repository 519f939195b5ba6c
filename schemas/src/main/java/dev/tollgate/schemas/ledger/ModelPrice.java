package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.nonNegativeOrNull;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * Prices of one model per million units, in integer micro-units of the price list's currency. The first three
 * are required; the others were added in v1 (ADR 0030), are optional and are not written when absent, so a list
 * without them encodes and bills exactly as before:
 *
 * @param cacheWriteInputMicrosPerMillionTokens prompt tokens written to the server's cache; absent: the input price
 * @param reasoningMicrosPerMillionTokens      completion tokens spent reasoning; absent: the output price
 * @param audioMicrosPerMillionSeconds         audio seconds (0.006 a minute is 100 micro-units a second, 100000000 here);
 *                                             absent: audio is not billed by the second
 * @param documentMicrosPerMillionDocuments    rerank and score documents; absent: not billed by the document
 * @param requestMicrosPerMillionRequests      a fee per request the model served (a fee of 100 micro-units is 100000000 here);
 *                                             absent: no fee
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelPrice(
        String model,
        @JsonProperty(required = true) long inputMicrosPerMillionTokens,
        @JsonProperty(required = true) long cachedInputMicrosPerMillionTokens,
        @JsonProperty(required = true) long outputMicrosPerMillionTokens,
        Long cacheWriteInputMicrosPerMillionTokens,
        Long reasoningMicrosPerMillionTokens,
        Long audioMicrosPerMillionSeconds,
        Long documentMicrosPerMillionDocuments,
        Long requestMicrosPerMillionRequests) {
    public ModelPrice {
        requiredText(model, "model");
        nonNegative(inputMicrosPerMillionTokens, "inputMicrosPerMillionTokens");
        nonNegative(cachedInputMicrosPerMillionTokens, "cachedInputMicrosPerMillionTokens");
        nonNegative(outputMicrosPerMillionTokens, "outputMicrosPerMillionTokens");
        nonNegativeOrNull(cacheWriteInputMicrosPerMillionTokens, "cacheWriteInputMicrosPerMillionTokens");
        nonNegativeOrNull(reasoningMicrosPerMillionTokens, "reasoningMicrosPerMillionTokens");
        nonNegativeOrNull(audioMicrosPerMillionSeconds, "audioMicrosPerMillionSeconds");
        nonNegativeOrNull(documentMicrosPerMillionDocuments, "documentMicrosPerMillionDocuments");
        nonNegativeOrNull(requestMicrosPerMillionRequests, "requestMicrosPerMillionRequests");
    }

    /** The three token prices only, as every list before ADR 0030. */
    public ModelPrice(String model, long inputMicrosPerMillionTokens, long cachedInputMicrosPerMillionTokens,
                      long outputMicrosPerMillionTokens) {
        this(model, inputMicrosPerMillionTokens, cachedInputMicrosPerMillionTokens, outputMicrosPerMillionTokens, null, null, null,
                null, null);
    }
}
