package dev.tollgate.gateway.http;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.surface.ErrorShape;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * The one place where a {@link GatewayError} becomes an HTTP response: in the error shape of the API
 * the request was made to ({@link ErrorShape#of}: Anthropic's on the Messages API, OpenAI's elsewhere).
 */
public final class ErrorResponses {
    private ErrorResponses() {}

    public static void send(RoutingContext ctx, GatewayError error) {
        send(ctx.request(), error);
    }

    /** As above, for a request refused before routing; completes when the answer is written. */
    public static Future<Void> send(HttpServerRequest request, GatewayError error) {
        HttpServerResponse response = request.response();
        if (response.headWritten()) {
            response.reset();
            return Future.succeededFuture();
        }
        ErrorShape shape = ErrorShape.of(request.path());
        response.setStatusCode(shape.status(error)).putHeader("content-type", "application/json");
        if (error.status() == 401) {
            response.putHeader("www-authenticate", "Bearer");
        }
        return response.end(shape.body(error).encode());
    }
}
