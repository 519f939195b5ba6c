package dev.tollgate.gateway.surface;

import dev.tollgate.gateway.GatewayError;
import io.vertx.core.json.JsonObject;

/**
 * How an API answers an error: the one place a {@link GatewayError} (OpenAI's vocabulary, used
 * everywhere inside the gateway) becomes the status and body a client of that API expects.
 */
public enum ErrorShape {
    /** {@code {"error":{"message","type","param","code"}}} with the error's own status. */
    OPENAI {
        @Override
        public int status(GatewayError error) {
            return error.status();
        }

        @Override
        public JsonObject body(GatewayError error) {
            return new JsonObject().put("error", new JsonObject().put("message", error.message()).put("type", error.type())
                    .put("param", error.param()).put("code", error.code()));
        }
    },
    /**
     * Anthropic's {@code {"type":"error","error":{"type","message"}}}, the error type following the status as
     * Anthropic's API sets it, and its status codes: capacity refusals (503) are its 529 {@code overloaded_error}.
     */
    ANTHROPIC {
        @Override
        public int status(GatewayError error) {
            return error.status() == 503 ? 529 : error.status();
        }

        @Override
        public JsonObject body(GatewayError error) {
            return new JsonObject().put("type", "error")
                    .put("error", new JsonObject().put("type", anthropicType(status(error))).put("message", error.message()));
        }
    };

    /** The HTTP status to answer with. */
    public abstract int status(GatewayError error);

    /** The JSON body to answer with. */
    public abstract JsonObject body(GatewayError error);

    /** The shape of errors on {@code path}: Anthropic's on the Messages API, OpenAI's everywhere else. */
    public static ErrorShape of(String path) {
        return path != null && (path.equals(Messages.PATH) || path.startsWith(Messages.PATH + "/")) ? ANTHROPIC : OPENAI;
    }

    /** Anthropic's error type for a status (its API's table of errors). */
    static String anthropicType(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 504 -> "timeout_error";
            case 529 -> "overloaded_error";
            default -> status >= 500 ? "api_error" : "invalid_request_error";
        };
    }
}
