package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Optional;

/**
 * Anthropic's Messages API, {@code POST /v1/messages}, streamed or not, passed through to pools whose
 * servers speak it (vLLM serves it). Clients send their key as {@code x-api-key} (or as a bearer
 * token) and get errors in Anthropic's shape ({@link ErrorShape#ANTHROPIC}). {@code max_tokens} is
 * required, as Anthropic's API requires it, and is the token ceiling.
 *
 * <p>Usage: Anthropic's {@code input_tokens} excludes the prompt read from the cache
 * ({@code cache_read_input_tokens}) and the prompt written to it ({@code cache_creation_input_tokens}), so
 * the billed prompt is their sum, of which the cache reads are the cached part (priced at the cached-input
 * rate); cache writes are priced as input. A stream gives the prompt's counts in {@code message_start} and
 * the output's, cumulatively, in {@code message_delta}; every {@code content_block_delta} counts as one
 * delivered token, and {@code message_stop} ends a whole answer.
 */
public final class Messages extends NamedSurface {
    public static final String PATH = "/v1/messages";
    public static final Messages INSTANCE = new Messages();

    private Messages() {
        super(Endpoint.MESSAGES, PATH, "chat");
    }

    @Override
    public MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid {
        boolean stream = MeteredFields.bool(body, "stream", "stream");
        if (body.getValue("max_tokens") == null) {
            throw new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "missing_max_tokens",
                    "max_tokens: Field required", "max_tokens"));
        }
        long maxTokens = MeteredFields.count(body, "max_tokens", 1, maxTokensCeiling);
        return new MeteredFields(stream, true, maxTokens, 1);
    }

    @Override
    public Optional<TokenUsage> usage(String answer) {
        JsonNode root = JsonEvents.parse(answer);
        if (root == null) {
            return Optional.empty();
        }
        Counts counts = new Counts();
        return counts.read(root.get("usage")) ? counts.usage(counts.output) : Optional.empty();
    }

    @Override
    public SseMeter streamMeter() {
        return new Meter();
    }

    /** An {@code error} event, as Anthropic's API ends a stream that failed. */
    @Override
    public String streamError(GatewayError error, long events) {
        return "event: error\ndata: " + ErrorShape.ANTHROPIC.body(error).encode() + "\n\n";
    }

    @Override
    public List<String> forwardedHeaders() {
        return List.of("anthropic-version", "anthropic-beta");
    }

    @Override
    public boolean acceptsApiKeyHeader() {
        return true;
    }

    @Override
    public ApiSurface overChatCompletions() {
        return MessagesOverChat.INSTANCE;
    }

    /** The counts of an Anthropic usage object; a later object's counts replace those it carries. */
    private static final class Counts {
        long input;
        long cacheRead;
        long cacheCreation;
        long output;
        boolean valid = true;

        /** Takes the counts {@code usage} names; false if it is not an object. */
        boolean read(JsonNode usage) {
            if (usage == null || !usage.isObject()) {
                return false;
            }
            input = field(usage, "input_tokens", input);
            cacheRead = field(usage, "cache_read_input_tokens", cacheRead);
            cacheCreation = field(usage, "cache_creation_input_tokens", cacheCreation);
            output = field(usage, "output_tokens", output);
            return true;
        }

        private long field(JsonNode usage, String name, long previous) {
            JsonNode node = usage.get(name);
            if (node == null || node.isNull()) {
                return previous;
            }
            long count = JsonEvents.count(node);
            valid &= count >= 0;
            return count;
        }

        Optional<TokenUsage> usage(long completion) {
            if (!valid) {
                return Optional.empty();
            }
            try {
                long prompt = Math.addExact(Math.addExact(input, cacheRead), cacheCreation);
                return Optional.of(new TokenUsage(prompt, completion, cacheRead, cacheCreation, 0, 0, 0));
            } catch (ArithmeticException e) {
                return Optional.empty(); // impossible counts: not believed
            }
        }
    }

    /** Meters a Messages API stream: deltas delivered, the prompt's counts from the start, the output's from the deltas. */
    static final class Meter extends TypedEventMeter {
        private final Counts counts = new Counts();
        private boolean started;
        private boolean outputFinal;

        @Override
        void onEvent(String type, JsonNode event) {
            switch (type) {
                case "message_start" -> started |= counts.read(event.path("message").get("usage"));
                case "content_block_delta" -> content();
                case "message_delta" -> outputFinal |= counts.read(event.get("usage"));
                case "message_stop" -> ended();
                default -> { }
            }
        }

        /**
         * Once the start gave the prompt's counts: those, with the output's final count once a
         * {@code message_delta} gave it, else with the deltas delivered so far (the start's output count is
         * a placeholder).
         */
        @Override
        public Optional<TokenUsage> upstreamUsage() {
            if (!started && !outputFinal) {
                return Optional.empty();
            }
            return counts.usage(outputFinal ? counts.output : Math.max(counts.output, contentChunks()));
        }
    }
}
