package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.json.JsonObject;

import java.util.Optional;
import java.util.Set;

/**
 * OpenAI's Responses API, {@code POST /v1/responses}, streamed or not. The token ceiling is
 * {@code max_output_tokens}; usage is {@code usage.input_tokens} (of which
 * {@code input_tokens_details.cached_tokens} came from the prefix cache) and {@code usage.output_tokens}
 * (reasoning tokens included, so billed as output), in the answer or in the stream's terminal event
 * ({@code response.completed}, {@code response.incomplete} or {@code response.failed}). A stream's
 * {@code event:} lines pass through untouched; every {@code *.delta} event counts as one delivered token.
 *
 * <p>Stateless only (ADR 0029): a stored response could be read back or continued by anyone who knows
 * its id on a shared model server, so the gateway sends {@code store: false} and refuses
 * {@code store: true}, {@code previous_response_id}, {@code conversation} and {@code background}, each
 * with a 400 that says why.
 */
public final class Responses extends NamedSurface {
    public static final String PATH = "/v1/responses";
    public static final Responses INSTANCE = new Responses();
    /** The events that end a whole answer; each carries the response with its usage. */
    static final Set<String> TERMINAL = Set.of("response.completed", "response.incomplete", "response.failed");

    private Responses() {
        super(Endpoint.RESPONSES, PATH, "chat");
    }

    @Override
    public MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid {
        boolean stream = MeteredFields.bool(body, "stream", "stream");
        if (MeteredFields.bool(body, "store", "store")) {
            throw stateful("store", "'store: true' is not supported: this gateway serves the Responses API statelessly,"
                    + " so that no tenant can read another's stored response; send the conversation in 'input'.");
        }
        if (MeteredFields.bool(body, "background", "background")) {
            throw stateful("background", "'background: true' is not supported: a background response is read back"
                    + " later by id, which this gateway does not serve.");
        }
        for (String field : new String[] {"previous_response_id", "conversation"}) {
            if (body.getValue(field) != null) {
                throw stateful(field, "'" + field + "' is not supported: this gateway keeps no stored responses or"
                        + " conversations; send the earlier turns in 'input'.");
            }
        }
        long maxOutput = MeteredFields.count(body, "max_output_tokens", 0, maxTokensCeiling);
        return new MeteredFields(stream, true, maxOutput, 1);
    }

    private static MeteredFields.Invalid stateful(String param, String message) {
        return new MeteredFields.Invalid(new GatewayError(400, "invalid_request_error", "unsupported_parameter", message, param));
    }

    @Override
    public void prepare(JsonObject body, MeteredFields fields) {
        body.put("store", false);
    }

    @Override
    public Optional<TokenUsage> usage(String answer) {
        JsonNode root = JsonEvents.parse(answer);
        return root == null ? Optional.empty() : usageOf(root.get("usage"));
    }

    /** A Responses API usage object's counts, if it is one and they are possible. */
    static Optional<TokenUsage> usageOf(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return Optional.empty();
        }
        long input = JsonEvents.count(usage.path("input_tokens"));
        long output = JsonEvents.count(usage.path("output_tokens"));
        long cached = JsonEvents.count(usage.path("input_tokens_details").path("cached_tokens"));
        long reasoning = JsonEvents.count(usage.path("output_tokens_details").path("reasoning_tokens"));
        if (input < 0 || output < 0 || cached < 0 || reasoning < 0) {
            return Optional.empty();
        }
        return Optional.of(new TokenUsage(input, output, Math.min(cached, input), 0, Math.min(reasoning, output), 0, 0));
    }

    @Override
    public SseMeter streamMeter() {
        return new Meter();
    }

    /** An {@code error} event numbered after the last event, as the Responses API ends a stream that failed. */
    @Override
    public String streamError(GatewayError error, long events) {
        return "event: error\ndata: " + new JsonObject().put("type", "error").put("code", error.code()).put("message", error.message())
                .put("param", error.param()).put("sequence_number", events).encode() + "\n\n";
    }

    /** Meters a Responses API stream: deltas delivered, the terminal event's usage. */
    static final class Meter extends TypedEventMeter {
        private TokenUsage usage;

        @Override
        void onEvent(String type, JsonNode event) {
            if (type.endsWith(".delta")) {
                content();
            } else if (TERMINAL.contains(type)) {
                ended();
                usageOf(event.path("response").get("usage")).ifPresent(u -> usage = u);
            }
        }

        @Override
        public Optional<TokenUsage> upstreamUsage() {
            return Optional.ofNullable(usage);
        }
    }
}
