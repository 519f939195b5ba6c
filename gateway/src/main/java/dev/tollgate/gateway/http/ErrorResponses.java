package dev.tollgate.gateway.http;

import dev.tollgate.gateway.GatewayError;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The one place where a {@link GatewayError} becomes an HTTP response, in the OpenAI error shape. */
public final class ErrorResponses {
    private ErrorResponses() {}

    public static void send(RoutingContext ctx, GatewayError error) {
        if (ctx.response().headWritten()) {
            ctx.response().reset();
            return;
        }
        var body = new JsonObject().put("error", new JsonObject().put("message", error.message()).put("type", error.type())
                .put("param", error.param()).put("code", error.code()));
        var response = ctx.response().setStatusCode(error.status()).putHeader("content-type", "application/json");
        if (error.status() == 401) {
            response.putHeader("www-authenticate", "Bearer");
        }
        response.end(body.encode());
    }
}
