package dev.tollgate.gateway.surface;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Optional;

/**
 * One API the gateway serves (what Envoy AI Gateway calls a translator; ADR 0029): everything that
 * differs between chat completions, the Responses API, the Anthropic Messages API and the others. The
 * proxy, admission, routing, relay and metering know only this interface; adding an API is one new
 * class, its tests and its place in {@link ApiSurfaces}.
 */
public interface ApiSurface {
    /** The endpoint its events name, its key scope and the upstream file's {@code apis} entry derive from. */
    Endpoint endpoint();

    /** The path clients call, and the gateway calls on the model server. */
    String path();

    /** The OpenTelemetry GenAI operation name of its spans and metrics ({@code chat}, {@code embeddings}, ...). */
    String operation();

    /**
     * The fields that decide admission and metering, read strictly: a field whose type the gateway would
     * not meter as the server reads it, or a feature the gateway cannot serve safely, is refused.
     */
    MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid;

    /** True if requests come as a multipart form with an upload (audio; ADR 0031) rather than as a JSON object. */
    default boolean multipart() {
        return false;
    }

    /**
     * The fields of a {@link #multipart} request as JSON, its upload checked; called instead of parsing a JSON body.
     */
    default JsonObject formFields(RoutingContext ctx) throws MeteredFields.Invalid {
        throw new UnsupportedOperationException(path() + " takes a JSON body");
    }

    /** What goes to the model server for {@code body} (read, prepared, its model routed): the JSON object, by default. */
    default UpstreamBody upstreamBody(RoutingContext ctx, JsonObject body) {
        return UpstreamBody.json(body);
    }

    /**
     * The surface that serves this request, once {@link #read} took it: itself, or a variant this body needs (a translation
     * asked for as {@code json}, which carries no usage, is served as {@code verbose_json} and answered as {@code json}).
     */
    default ApiSurface forRequest(JsonObject body) {
        return this;
    }

    /** Changes the body before it goes to the model server, after {@link #read} (e.g. asks a stream for its usage). */
    default void prepare(JsonObject body, MeteredFields fields) {}

    /** The model server's own counts in a whole (not streamed) answer, if it carries possible ones. */
    Optional<TokenUsage> usage(String answer);

    /** A meter for one streamed answer. */
    SseMeter streamMeter();

    /**
     * The event that ends a stream the gateway cuts (a budget ran out, the server stopped answering), in the
     * API's own shape; by default an error chunk, as the OpenAI API ends a stream it cannot finish.
     *
     * @param events the events the stream carried so far
     */
    default String streamError(GatewayError error, long events) {
        return "data: " + ErrorShape.OPENAI.body(error).encode() + "\n\n";
    }

    /** The client's answer made from the model server's whole answer: a translating surface rewrites it, the others pass it. */
    default Buffer answer(Buffer upstreamAnswer, int status) {
        return upstreamAnswer;
    }

    /** A translator for one streamed answer, for a surface that rewrites what the server says; null: the server's bytes are relayed. */
    default StreamTranslator streamTranslator() {
        return null;
    }

    /** This API served by a pool that speaks only chat completions, or null when it cannot be (ADR 0029). */
    default ApiSurface overChatCompletions() {
        return null;
    }

    /** Request headers passed on to the model server (never credentials), lower case. */
    default List<String> forwardedHeaders() {
        return List.of();
    }

    /** True if the API's clients may send their key as {@code x-api-key} instead of {@code Authorization: Bearer}. */
    default boolean acceptsApiKeyHeader() {
        return false;
    }
}
