package dev.tollgate.testkit.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Replays one recorded OpenAI response byte for byte to every request: the recorded status,
 * content type and body. A streamed body is written in small pieces, so that SSE events arrive
 * split across network reads as they do from a real server.
 */
public final class CassetteUpstream implements AutoCloseable {
    private static final int PIECE_BYTES = 97;

    private final Vertx vertx;
    private final HttpServer server;

    private CassetteUpstream(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /** Serves {@code interaction}'s response on a free port, with {@code body} as the response body. */
    public static CassetteUpstream start(Cassettes.Interaction interaction, String body) throws Exception {
        Vertx vertx = Vertx.vertx();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        HttpServer server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(ignored -> {
            var response = request.response().setStatusCode(interaction.status());
            if (interaction.contentType() != null) {
                response.putHeader("content-type", interaction.contentType());
            }
            if (!interaction.streamed()) {
                response.end(Buffer.buffer(bytes));
                return;
            }
            response.setChunked(true);
            for (int offset = 0; offset < bytes.length; offset += PIECE_BYTES) {
                response.write(Buffer.buffer(bytes).getBuffer(offset, Math.min(bytes.length, offset + PIECE_BYTES)));
            }
            response.end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return new CassetteUpstream(vertx, server);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
