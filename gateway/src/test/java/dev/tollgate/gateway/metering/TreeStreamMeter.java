package dev.tollgate.gateway.metering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.usage.TokenUsage;

import java.io.IOException;
import java.util.Optional;

/**
 * The first StreamMeter (a Jackson tree per chunk), kept as the reference the streaming one must
 * agree with on every input: {@code SseMeteringFuzzTest} compares the two.
 *
 * Meters one streamed completion as its SSE events pass: counts the content-bearing chunks (our
 * estimate of completion tokens while the stream runs; servers such as vLLM send one token per
 * chunk) and keeps the upstream's final usage chunk when it sends one. Not thread-safe.
 */
final class TreeStreamMeter {
    private static final ObjectMapper MAPPER = EventCodec.mapper();

    private long contentChunks;
    private long reasoningChunks;
    private long malformedEvents;
    private boolean done;
    private boolean sawUsageOnlyChunk;
    private TokenUsage upstreamUsage;

    /** Accepts the data of one SSE event. */
    public void onData(String data) {
        if (data.equals("[DONE]")) {
            done = true;
            return;
        }
        JsonNode chunk;
        try {
            chunk = MAPPER.readTree(data);
        } catch (IOException e) {
            malformedEvents++;
            return;
        }
        UsageExtractor.fromNode(chunk).ifPresent(usage -> upstreamUsage = usage);
        JsonNode choices = chunk.path("choices");
        if (choices.isArray() && choices.isEmpty() && chunk.path("usage").isObject()) {
            sawUsageOnlyChunk = true;
        }
        for (JsonNode choice : choices) {
            JsonNode delta = choice.path("delta");
            if (hasText(delta.path("content")) || hasText(choice.path("text")) || delta.path("tool_calls").isArray()) {
                contentChunks++;
            } else if (hasText(delta.path("reasoning_content")) || hasText(delta.path("reasoning"))) {
                contentChunks++;
                reasoningChunks++;
            }
        }
    }

    private static boolean hasText(JsonNode node) {
        return node.isTextual() && !node.asText().isEmpty();
    }

    /** Chunks that carried completion output so far. */
    public long contentChunks() {
        return contentChunks;
    }

    /** Of those, chunks that carried reasoning only. */
    public long reasoningChunks() {
        return reasoningChunks;
    }

    /** The upstream's final usage, once its usage chunk has passed. */
    public Optional<TokenUsage> upstreamUsage() {
        return Optional.ofNullable(upstreamUsage);
    }

    /** True once {@code [DONE]} has passed. */
    public boolean done() {
        return done;
    }

    /** True if the stream ended with a usage-only chunk ({@code choices: []}), which a client that did not ask for usage must not see. */
    public boolean sawUsageOnlyChunk() {
        return sawUsageOnlyChunk;
    }

    /** Events that were not JSON (passed through, not metered). */
    public long malformedEvents() {
        return malformedEvents;
    }
}
