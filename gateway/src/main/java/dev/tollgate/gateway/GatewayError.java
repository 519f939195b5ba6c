package dev.tollgate.gateway;

/**
 * Every refusal of the gateway, in the OpenAI error shape ({@code {"error":{"message","type","code"}}})
 * with its HTTP status. One type, mapped to a response in one place ({@code ErrorResponses}).
 */
public record GatewayError(int status, String type, String code, String message, String param) {
    /** The most characters of a caller's value echoed in an answer, a log line or a span (issue #19 item 4). */
    public static final int MAX_ECHO = 256;

    /** {@code value} as it may be echoed: at most {@link #MAX_ECHO} characters, cut ones marked with an ellipsis. */
    public static String echoed(String value) {
        return value == null || value.length() <= MAX_ECHO ? value : value.substring(0, MAX_ECHO) + "…";
    }

    public static GatewayError missingKey() {
        return new GatewayError(401, "invalid_request_error", "missing_api_key",
                "You didn't provide an API key. Send it as 'Authorization: Bearer tg_...'.", null);
    }

    /** The same answer for malformed, unknown, wrong, expired and revoked keys: nothing to learn from it. */
    public static GatewayError invalidKey() {
        return new GatewayError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.", null);
    }

    public static GatewayError tenantSuspended() {
        return new GatewayError(403, "permission_error", "tenant_suspended",
                "The account of this API key is suspended.", null);
    }

    public static GatewayError modelNotFound(String model) {
        return new GatewayError(404, "invalid_request_error", "model_not_found",
                "The model '" + echoed(model) + "' does not exist or you do not have access to it.", "model");
    }

    public static GatewayError scopeMissing(String what, String scope) {
        return new GatewayError(403, "permission_error", "insufficient_scope",
                "This API key may not call " + what + ": it needs the scope '" + scope + "' or 'inference'.", null);
    }

    public static GatewayError endpointNotAllowed(String what) {
        return new GatewayError(403, "permission_error", "endpoint_not_allowed",
                "Your plan or limits do not include " + what + "; ask your administrator to allow it.", null);
    }

    public static GatewayError modelNotPriced(String model) {
        return new GatewayError(403, "permission_error", "model_not_priced",
                "The model '" + echoed(model) + "' has no price on your plan, so it cannot be billed; ask your administrator to price it.", "model");
    }

    public static GatewayError notReady() {
        return new GatewayError(503, "server_error", "not_ready", "The gateway is starting; retry shortly.", null);
    }
}
