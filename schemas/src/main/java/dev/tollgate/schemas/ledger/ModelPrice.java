package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.requiredText;

/** Prices of one model per million tokens, in integer micro-units of the price list's currency. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelPrice(
        String model,
        @JsonProperty(required = true) long inputMicrosPerMillionTokens,
        @JsonProperty(required = true) long cachedInputMicrosPerMillionTokens,
        @JsonProperty(required = true) long outputMicrosPerMillionTokens) {
    public ModelPrice {
        requiredText(model, "model");
        nonNegative(inputMicrosPerMillionTokens, "inputMicrosPerMillionTokens");
        nonNegative(cachedInputMicrosPerMillionTokens, "cachedInputMicrosPerMillionTokens");
        nonNegative(outputMicrosPerMillionTokens, "outputMicrosPerMillionTokens");
    }
}
