package dev.tollgate.gateway.http;

import dev.tollgate.gateway.GatewayError;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The one place where a {@link GatewayError} becomes an HTTP response, in the OpenAI error shape. */
public final class ErrorResponses {
    private ErrorResponses() {}

    public static void send(RoutingContext ctx, GatewayError error) {
        send(ctx.response(), error);
    }

    /** As above, for a request refused before routing; completes when the answer is written. */
    public static Future<Void> send(HttpServerResponse response, GatewayError error) {
        if (response.headWritten()) {
            response.reset();
            return Future.succeededFuture();
        }
        var body = new JsonObject().put("error", new JsonObject().put("message", error.message()).put("type", error.type())
                .put("param", error.param()).put("code", error.code()));
        response.setStatusCode(error.status()).putHeader("content-type", "application/json");
        if (error.status() == 401) {
            response.putHeader("www-authenticate", "Bearer");
        }
        return response.end(body.encode());
    }
}
