package dev.tollgate.gateway.surface;

import dev.tollgate.gateway.GatewayError;
import io.vertx.core.json.JsonObject;

/**
 * The request fields that decide metering and admission, read strictly (issue #19 item 3, #18 item 7);
 * {@link #read} reads them as chat and text completions name them, and each other {@link ApiSurface}
 * with the same strict helpers from its own names.
 * A server that parses leniently (pydantic's default turns {@code "true"} into {@code true} and
 * {@code "1000000"} into a number) must never act on a value the gateway did not meter, so each of
 * these fields must have the JSON type the API defines, or the request is refused with a 400:
 * <ul>
 *   <li>{@code stream}, {@code stream_options.include_usage}: boolean or null;</li>
 *   <li>{@code stream_options}: object or null;</li>
 *   <li>{@code max_tokens}, {@code max_completion_tokens}: whole number from 0 to the ceiling, or null (0 is
 *       passed on for the server to judge; it reserves nothing, like an absent limit);</li>
 *   <li>{@code n}: whole number from 1 to {@link #MAX_CHOICES}, or null; {@code best_of}: whole number from
 *       {@code n} to {@link #MAX_CHOICES}, or null.</li>
 * </ul>
 * When both token limits are sent, servers disagree on which applies (vLLM takes
 * {@code max_completion_tokens} when it is non-zero, else {@code max_tokens}), so the reservation
 * takes the larger: it is never below what any server generates, and a 0 in one field cannot hide
 * the other. Every choice the server generates
 * ({@code best_of} when given, else {@code n}) is reserved.
 *
 * @param stream              the client asked for a stream
 * @param clientWantsUsage    the client asked for the usage chunk itself
 * @param maxTokensPerChoice  the completion limit of one choice, 0 when the client set none
 * @param choices             how many completions the server generates
 * @param documents           how many documents the server ranks or scores (rerank and score; 0 elsewhere): a unit
 *                            a price list can bill (ADR 0030)
 */
public record MeteredFields(boolean stream, boolean clientWantsUsage, long maxTokensPerChoice, long choices, long documents) {
    /** Most completions one request may ask the server to generate. */
    static final long MAX_CHOICES = 128;

    /** A refused field: the error to answer with. */
    public static final class Invalid extends Exception {
        private final GatewayError error;

        Invalid(GatewayError error) {
            super(error.message(), null, false, false);
            this.error = error;
        }

        public GatewayError error() {
            return error;
        }
    }

    /** Fields of an API that ranks no documents. */
    public MeteredFields(boolean stream, boolean clientWantsUsage, long maxTokensPerChoice, long choices) {
        this(stream, clientWantsUsage, maxTokensPerChoice, choices, 0);
    }

    /** The completion tokens to reserve: every generated choice at its limit. */
    public long reservedCompletionTokens() {
        return maxTokensPerChoice * choices;
    }

    static MeteredFields read(JsonObject body, long maxTokensCeiling) throws Invalid {
        boolean stream = bool(body, "stream", "stream");
        Object optionsValue = body.getValue("stream_options");
        if (optionsValue != null && !(optionsValue instanceof JsonObject)) {
            throw invalidType("stream_options", "an object");
        }
        boolean wantsUsage = optionsValue instanceof JsonObject options && bool(options, "include_usage", "stream_options.include_usage");
        long maxCompletion = count(body, "max_completion_tokens", 0, maxTokensCeiling);
        long maxTokens = count(body, "max_tokens", 0, maxTokensCeiling);
        long n = count(body, "n", 1, MAX_CHOICES);
        long bestOf = count(body, "best_of", Math.max(1, n), MAX_CHOICES);
        return new MeteredFields(stream, wantsUsage, Math.max(maxCompletion, maxTokens), Math.max(1, Math.max(n, bestOf)));
    }

    static boolean bool(JsonObject object, String key, String param) throws Invalid {
        Object value = object.getValue(key);
        if (value == null) {
            return false;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        throw invalidType(param, "a boolean");
    }

    /** A whole number within {@code [min, max]}, or 0 when absent or null. */
    static long count(JsonObject object, String key, long min, long max) throws Invalid {
        Object value = object.getValue(key);
        if (value == null) {
            return 0;
        }
        if (!(value instanceof Integer || value instanceof Long)) {
            throw invalidType(key, "a whole number");
        }
        long count = ((Number) value).longValue();
        if (count < min || count > max) {
            throw new Invalid(new GatewayError(400, "invalid_request_error", "invalid_" + key,
                    "'" + key + "' must be from " + min + " to " + max + ".", key));
        }
        return count;
    }

    static Invalid invalidType(String param, String type) {
        return new Invalid(new GatewayError(400, "invalid_request_error", "invalid_type", "'" + param + "' must be " + type + ".", param));
    }
}
