package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import static dev.tollgate.schemas.event.Fields.nonNegative;

/**
 * Token counts of one request. As in the OpenAI API, {@code cachedPromptTokens} is the part of
 * {@code promptTokens} served from the prefix cache (priced at the cached-input rate), not an addition.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TokenUsage(
        @JsonProperty(required = true) long promptTokens,
        @JsonProperty(required = true) long completionTokens,
        @JsonProperty(required = true) long cachedPromptTokens) {
    /** No tokens at all. */
    public static final TokenUsage ZERO = new TokenUsage(0, 0, 0);

    public TokenUsage {
        nonNegative(promptTokens, "promptTokens");
        nonNegative(completionTokens, "completionTokens");
        nonNegative(cachedPromptTokens, "cachedPromptTokens");
        if (cachedPromptTokens > promptTokens) {
            throw new IllegalArgumentException("field 'cachedPromptTokens' (" + cachedPromptTokens
                    + ") exceeds 'promptTokens' (" + promptTokens + ")");
        }
    }

    /** Prompt tokens charged at the full input rate. */
    public long uncachedPromptTokens() {
        return promptTokens - cachedPromptTokens;
    }
}
