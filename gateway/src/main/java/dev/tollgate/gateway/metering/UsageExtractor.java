package dev.tollgate.gateway.metering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.usage.TokenUsage;

import java.io.IOException;
import java.util.Optional;

/**
 * Reads the upstream's own token counts from an OpenAI-shaped JSON body: a chat completion, a text
 * completion, an embeddings answer, or the usage chunk that ends a stream with
 * {@code stream_options.include_usage}. Tolerates every extra field the real API sends.
 */
public final class UsageExtractor {
    private static final ObjectMapper MAPPER = EventCodec.mapper();

    private UsageExtractor() {}

    /** The usage in {@code json}, if it carries a non-null {@code usage} object. */
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
        long prompt = usage.path("prompt_tokens").asLong(0);
        long completion = usage.path("completion_tokens").asLong(0);
        long cached = usage.path("prompt_tokens_details").path("cached_tokens").asLong(0);
        return Optional.of(new TokenUsage(prompt, completion, Math.min(cached, prompt)));
    }
}
