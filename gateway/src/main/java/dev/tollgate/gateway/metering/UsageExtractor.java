package dev.tollgate.gateway.metering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.usage.TokenUsage;

import java.io.IOException;
import java.util.Optional;

/**
 * Reads the upstream's own token counts (with {@code completion_tokens_details.reasoning_tokens}, ADR 0030) from an OpenAI-shaped JSON body: a chat completion, a text
 * completion, an embeddings answer, or the usage chunk that ends a stream with
 * {@code stream_options.include_usage}. Tolerates every extra field the real API sends.
 */
public final class UsageExtractor {
    private static final ObjectMapper MAPPER = EventCodec.mapper();

    private UsageExtractor() {}

    /** The usage in {@code json}, if it carries a non-null {@code usage} object with possible counts. */
    public static Optional<TokenUsage> fromJson(String json) {
        try {
            return fromNode(MAPPER.readTree(json));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The usage in an already parsed body or chunk. */
    public static Optional<TokenUsage> fromNode(JsonNode root) {
        JsonNode usage = root == null ? null : root.get("usage");
        if (usage == null || !usage.isObject()) {
            return Optional.empty();
        }
        long prompt = count(usage.path("prompt_tokens"));
        long completion = count(usage.path("completion_tokens"));
        long cached = count(usage.path("prompt_tokens_details").path("cached_tokens"));
        long reasoning = count(usage.path("completion_tokens_details").path("reasoning_tokens"));
        if (prompt < 0 || completion < 0 || cached < 0 || reasoning < 0) {
            return Optional.empty(); // impossible counts: not believed, the gateway meters with its own (found while writing the fuzz test)
        }
        return Optional.of(new TokenUsage(prompt, completion, Math.min(cached, prompt), 0, Math.min(reasoning, completion), 0, 0));
    }

    /** An absent count is 0; a count that is not a non-negative integer that fits a long is -1 (invalid). */
    private static long count(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return 0;
        }
        return node.isIntegralNumber() && node.canConvertToLong() && node.asLong() >= 0 ? node.asLong() : -1;
    }
}
