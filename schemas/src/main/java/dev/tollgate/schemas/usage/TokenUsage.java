package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import static dev.tollgate.schemas.event.Fields.nonNegative;

/**
 * The metered usage of one request. As in the OpenAI API, {@code cachedPromptTokens} is the part of
 * {@code promptTokens} served from the prefix cache (priced at the cached-input rate), not an addition.
 *
 * <p>The fields after the first three were added in v1 (ADR 0030) and are optional: absent means 0, and a
 * 0 is not written, so an event without them encodes exactly as before.
 *
 * @param cacheWritePromptTokens the part of {@code promptTokens} the server wrote to its prompt cache (Anthropic's
 *                               {@code cache_creation_input_tokens}); never overlaps {@code cachedPromptTokens}
 * @param reasoningTokens        the part of {@code completionTokens} the model spent reasoning
 *                               ({@code completion_tokens_details.reasoning_tokens}, {@code output_tokens_details.reasoning_tokens})
 * @param audioSeconds           seconds of audio the request carried (transcriptions, translations), rounded up
 * @param documents              documents a rerank or score request ranked
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TokenUsage(
        @JsonProperty(required = true) long promptTokens,
        @JsonProperty(required = true) long completionTokens,
        @JsonProperty(required = true) long cachedPromptTokens,
        @JsonInclude(JsonInclude.Include.NON_DEFAULT) long cacheWritePromptTokens,
        @JsonInclude(JsonInclude.Include.NON_DEFAULT) long reasoningTokens,
        @JsonInclude(JsonInclude.Include.NON_DEFAULT) long audioSeconds,
        @JsonInclude(JsonInclude.Include.NON_DEFAULT) long documents) {
    /** No usage at all. */
    public static final TokenUsage ZERO = new TokenUsage(0, 0, 0);

    public TokenUsage {
        nonNegative(promptTokens, "promptTokens");
        nonNegative(completionTokens, "completionTokens");
        nonNegative(cachedPromptTokens, "cachedPromptTokens");
        nonNegative(cacheWritePromptTokens, "cacheWritePromptTokens");
        nonNegative(reasoningTokens, "reasoningTokens");
        nonNegative(audioSeconds, "audioSeconds");
        nonNegative(documents, "documents");
        if (cachedPromptTokens > promptTokens) {
            throw new IllegalArgumentException("field 'cachedPromptTokens' (" + cachedPromptTokens
                    + ") exceeds 'promptTokens' (" + promptTokens + ")");
        }
        if (cacheWritePromptTokens > promptTokens - cachedPromptTokens) {
            throw new IllegalArgumentException("field 'cacheWritePromptTokens' (" + cacheWritePromptTokens
                    + ") exceeds the uncached part of 'promptTokens' (" + (promptTokens - cachedPromptTokens) + ")");
        }
        if (reasoningTokens > completionTokens) {
            throw new IllegalArgumentException("field 'reasoningTokens' (" + reasoningTokens
                    + ") exceeds 'completionTokens' (" + completionTokens + ")");
        }
    }

    /** Decodes an event: the fields added in v1 may be absent (0). */
    @JsonCreator
    static TokenUsage decoded(@JsonProperty(value = "promptTokens", required = true) long promptTokens,
                              @JsonProperty(value = "completionTokens", required = true) long completionTokens,
                              @JsonProperty(value = "cachedPromptTokens", required = true) long cachedPromptTokens,
                              @JsonProperty("cacheWritePromptTokens") Long cacheWritePromptTokens,
                              @JsonProperty("reasoningTokens") Long reasoningTokens,
                              @JsonProperty("audioSeconds") Long audioSeconds,
                              @JsonProperty("documents") Long documents) {
        return new TokenUsage(promptTokens, completionTokens, cachedPromptTokens, orZero(cacheWritePromptTokens), orZero(reasoningTokens),
                orZero(audioSeconds), orZero(documents));
    }

    private static long orZero(Long value) {
        return value == null ? 0 : value;
    }

    /** Token counts only, as every event before ADR 0030 had them. */
    public TokenUsage(long promptTokens, long completionTokens, long cachedPromptTokens) {
        this(promptTokens, completionTokens, cachedPromptTokens, 0, 0, 0, 0);
    }

    /** Prompt tokens charged at the full input rate (cache writes included: ADR 0030 splits them off only where priced). */
    public long uncachedPromptTokens() {
        return promptTokens - cachedPromptTokens;
    }

    /** The same usage with these cache-write and reasoning parts. */
    public TokenUsage withTokenDetails(long cacheWrite, long reasoning) {
        return new TokenUsage(promptTokens, completionTokens, cachedPromptTokens, cacheWrite, reasoning, audioSeconds, documents);
    }

    /** The same usage with these audio seconds and documents. */
    public TokenUsage withUnits(long audio, long docs) {
        return new TokenUsage(promptTokens, completionTokens, cachedPromptTokens, cacheWritePromptTokens, reasoningTokens, audio, docs);
    }
}
