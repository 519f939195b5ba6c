package dev.tollgate.gateway.proxy;

import dev.tollgate.billing.UsageBilling;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.http.ErrorResponses;
import dev.tollgate.gateway.http.RequestTelemetry;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.gateway.metering.SseScanner;
import dev.tollgate.gateway.metering.TerminalUsage;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.metrics.GatewayMetrics;
import dev.tollgate.gateway.scheduling.UpstreamPriority;
import dev.tollgate.gateway.surface.ApiSurface;
import dev.tollgate.gateway.surface.StreamTranslator;
import dev.tollgate.gateway.surface.UpstreamBody;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestError;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * One admitted request from its acceptance to its terminal usage event: the upstream call with its
 * retries and the relay of the answer. Sends with the pool's credential (never the tenant's) and the
 * trace context, relays a whole answer or a stream (the model server's bytes, {@link SseRelay}, or
 * their rewrite into the client's API when its surface translates: ADR 0029) with backpressure, meters
 * it with its surface's meter, cuts it when a hard budget runs out, and emits exactly one terminal event.
 * A client that goes away cancels the upstream request.
 *
 * <p>A connection failure, a first-byte timeout or a 5xx before anything reached the client is
 * retried on another endpoint of the pool (at most {@link #MAX_ATTEMPTS} tries); after the first
 * byte, an upstream failure ends the stream with an error event. Failures count against the
 * endpoint (passive ejection, see {@code EndpointPool}). Runs on its request's event loop only.
 */
final class UpstreamCall {
    /** Tries per request, each on another endpoint, while nothing has reached the client. */
    static final int MAX_ATTEMPTS = 3;
    static final int MAX_SSE_EVENT_BYTES = 1024 * 1024;
    /** The cancel reason of a request whose client went away. */
    static final String CLIENT_DISCONNECT = "client_disconnect";

    /** What every call of one event loop uses: that loop's client to the model servers and the gateway's shared parts. */
    record Services(Vertx vertx, HttpClient client, UsageEmitter usage, GatewayMetrics metrics, OpenTelemetry openTelemetry,
                    Tracer tracer, StreamProgress progress) {}

    private final Vertx vertx;
    private final HttpClient client;
    private final UsageEmitter usage;
    private final GatewayMetrics metrics;
    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;
    private final StreamProgress progress;
    private final RoutingContext ctx;
    private final Principal principal;
    private final ApiSurface surface;
    private final Endpoint api;
    private final String model;
    private final boolean stream;
    private final boolean clientWantsUsage;
    private final EndpointPool endpoints;
    private EndpointPool.Lease lease;
    private final Set<EndpointPool.Slot> tried = new HashSet<>();
    private int attempts;
    private long firstByteTimer = -1;
    private UpstreamBody payload;
    private final String requestId;
    /** The request's server span: the parent of the upstream span and of every usage event's span. */
    private final Context trace;
    private Span upstreamSpan;
    private final long startNanos = System.nanoTime();
    private final SseMeter meter;
    /** What the prompt is billed when the model server gave no count (ADR 0022). */
    private TerminalUsage.PromptSize prompt;
    /** The request's scheduling class, told to servers whose pool asks for it by header. */
    private String priorityClass;
    private Long firstTokenMs;
    private long emittedTokens;
    /** Of {@link #emittedTokens}, the reasoning ones (ADR 0030). */
    private long emittedReasoning;
    private long sequence;
    private long lastEmitNanos = System.nanoTime();
    private long lastChunkNanos;
    private boolean finished;
    private HttpClientRequest upstreamRequest;

    private final EndpointPool.Affinity affinityKey;
    private final Holds holds;

    UpstreamCall(Services services, RoutingContext ctx, Principal principal, ApiSurface surface, String model, boolean stream,
                 boolean clientWantsUsage, EndpointPool endpoints, EndpointPool.Lease lease, EndpointPool.Affinity affinityKey,
                 Holds holds) {
        this.vertx = services.vertx();
        this.client = services.client();
        this.usage = services.usage();
        this.metrics = services.metrics();
        this.openTelemetry = services.openTelemetry();
        this.tracer = services.tracer();
        this.progress = services.progress();
        this.endpoints = endpoints;
        this.affinityKey = affinityKey;
        this.holds = holds;
        this.ctx = ctx;
        this.principal = principal;
        this.surface = surface;
        this.api = surface.endpoint();
        this.meter = surface.streamMeter();
        this.model = model;
        this.stream = stream;
        this.clientWantsUsage = clientWantsUsage;
        this.lease = lease;
        this.requestId = RequestTelemetry.requestId(ctx);
        this.trace = RequestTelemetry.context(ctx);
    }

    void accepted(TerminalUsage.PromptSize prompt, long reservedCompletionTokens, String priorityClass) {
        this.prompt = prompt;
        this.priorityClass = priorityClass;
        usage.emit(EventType.USAGE_REQUEST_ACCEPTED, requestId, trace, new RequestAccepted(requestId, principal.tenantId(),
                principal.keyId(), model, api, stream, lease.slot().name(), prompt.estimate(), reservedCompletionTokens, priorityClass));
        ctx.response().closeHandler(v -> {
            if (!finished) {
                // Finish first: resetting the upstream fires its exception handler, which must not
                // record a second terminal event. The server's usage chunk, if it came before the
                // client left, bills the prompt; otherwise the prompt's ceiling does (ADR 0022).
                finish(EventType.USAGE_REQUEST_CANCELLED, meter.upstreamUsage().orElse(null), null, CLIENT_DISCONNECT);
                if (upstreamRequest != null) {
                    upstreamRequest.reset();
                }
            }
        });
    }

    void send(JsonObject body) {
        this.payload = surface.upstreamBody(ctx, body);
        attempt();
    }

    /** One try on the current lease; {@link #retryOrFail} moves to another endpoint. */
    private void attempt() {
        attempts++;
        tried.add(lease.slot());
        UpstreamConfig.Timeouts timeouts = lease.pool().timeouts() == null ? UpstreamConfig.Timeouts.DEFAULT : lease.pool().timeouts();
        var options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(lease.slot().url() + surface.path())
                .putHeader("content-type", payload.contentType())
                .setConnectTimeout(orDefault(timeouts.connectMs(), 2_000L))
                .setIdleTimeout(orDefault(timeouts.idleMs(), 60_000L));
        if (lease.pool().credential() != null && !lease.pool().credential().isBlank()) {
            options.putHeader("authorization", "Bearer " + lease.pool().credential());
        }
        for (String header : surface.forwardedHeaders()) {
            String value = ctx.request().getHeader(header);
            if (value != null) {
                options.putHeader(header, value);
            }
        }
        UpstreamPriority.header(lease.pool(), priorityClass).ifPresent(h -> options.putHeader(h.name(), h.value()));
        endUpstreamSpan(-1, -1, "retried"); // a previous try of this request
        upstreamSpan = upstreamSpan(lease.slot());
        // The model server continues this trace (W3C traceparent): never the caller's headers verbatim.
        openTelemetry.getPropagators().getTextMapPropagator().inject(trace.with(upstreamSpan), options,
                (carrier, key, value) -> carrier.putHeader(key, value));
        int attempt = attempts;
        firstByteTimer = vertx.setTimer(orDefault(timeouts.firstByteMs(), 30_000L), id -> {
            if (attempt == attempts && !finished && !ctx.response().headWritten()) {
                lease.failed();
                HttpClientRequest abandoned = upstreamRequest;
                // Move on first: the reset below fails the abandoned try, whose handler must see it is stale.
                retryOrFail(504, "upstream_timeout", "no first byte within " + timeouts.firstByteMs() + " ms");
                if (abandoned != null) {
                    abandoned.reset();
                }
            }
        });
        client.request(options)
                .compose(request -> {
                    if (attempt == attempts) {
                        upstreamRequest = request;
                    }
                    return payload.send(request, vertx.fileSystem());
                })
                .onSuccess(response -> {
                    if (attempt != attempts) {
                        response.request().reset(); // a late answer of an abandoned try
                        return;
                    }
                    vertx.cancelTimer(firstByteTimer);
                    if (response.statusCode() >= 500 && !finished) {
                        lease.failed();
                        response.request().reset();
                        retryOrFail(502, "upstream_error", "upstream answered " + response.statusCode());
                        return;
                    }
                    lease.succeeded();
                    respond(response);
                })
                .onFailure(error -> {
                    if (attempt == attempts) {
                        vertx.cancelTimer(firstByteTimer);
                        lease.failed();
                        retryOrFail(502, "upstream_error", error.getMessage());
                    }
                });
    }

    /**
     * Nothing has reached the client yet, so another endpoint may take the request: at most
     * {@link #MAX_ATTEMPTS} tries, each on an endpoint not tried before.
     */
    private void retryOrFail(int status, String code, String reason) {
        if (finished || ctx.response().headWritten()) {
            upstreamFailed(reason);
            return;
        }
        Optional<EndpointPool.Lease> next = attempts < MAX_ATTEMPTS ? endpoints.acquire(model, tried, affinityKey) : Optional.empty();
        if (next.isPresent()) {
            lease.release();
            lease = next.get();
            attempt();
            return;
        }
        finish(EventType.USAGE_REQUEST_FAILED, null, new RequestError(status, "server_error", code, reason), null);
        ErrorResponses.send(ctx, new GatewayError(status, "server_error", code,
                status == 504 ? "The model server did not answer in time." : "The model server failed to answer.", null));
    }

    private void respond(HttpClientResponse upstream) {
        if (finished) {
            upstreamRequest.reset();
            return;
        }
        HttpServerResponse response = ctx.response().setStatusCode(upstream.statusCode());
        String contentType = upstream.getHeader("content-type");
        if (contentType != null) {
            response.putHeader("content-type", contentType);
        }
        response.putHeader("x-request-id", requestId);
        if (!stream || upstream.statusCode() >= 400 || contentType == null || !contentType.startsWith("text/event-stream")) {
            relayWhole(upstream, response);
        } else {
            relayStream(upstream, response);
        }
    }

    private void relayWhole(HttpClientResponse upstream, HttpServerResponse response) {
        upstream.body().onSuccess(buffer -> {
            if (finished) {
                return;
            }
            firstTokenMs = elapsedMs();
            String text = buffer.toString(StandardCharsets.UTF_8);
            TokenUsage upstreamUsage = surface.usage(text).orElse(null);
            // The terminal event first: ending the response can close the connection at once,
            // and its close handler must not take the request for a client that went away.
            if (upstream.statusCode() >= 400) {
                finish(EventType.USAGE_REQUEST_FAILED, upstreamUsage, new RequestError(upstream.statusCode(),
                        "upstream_error", "upstream_status_" + upstream.statusCode(), null), null);
            } else {
                finish(EventType.USAGE_REQUEST_COMPLETED, upstreamUsage, null, null);
            }
            response.end(surface.answer(buffer, upstream.statusCode()));
        }).onFailure(error -> upstreamFailed(error.getMessage()));
    }

    private void relayStream(HttpClientResponse upstream, HttpServerResponse response) {
        response.setChunked(true).putHeader("cache-control", "no-cache");
        // The server's bytes as they came, or, for a translating surface, each event rewritten (ADR 0029).
        StreamTranslator translator = surface.streamTranslator();
        var relay = new SseRelay(response);
        var scanner = new SseScanner(MAX_SSE_EVENT_BYTES, (data, offset, length, start, end) -> {
            if (translator != null && !finished) { // written before it is metered, as relayed bytes are: a cut comes after it
                String translated = translator.onData(data, offset, length);
                if (!translated.isEmpty()) {
                    response.write(translated);
                }
            }
            onEvent(data, offset, length, start, end, relay, response);
        });
        upstream.handler(buffer -> {
            if (translator == null) {
                relay.received(buffer);
            }
            SseRelay.Bytes bytes = SseRelay.bytesOf(buffer);
            try {
                scanner.feed(bytes.array(), bytes.offset(), bytes.length());
            } catch (SseScanner.EventTooLargeException e) {
                upstreamRequest.reset();
                upstreamFailed(e.getMessage());
                return;
            }
            if (finished) {
                return;
            }
            if (translator == null) {
                relay.flush(scanner.boundary());
            }
            if (response.writeQueueFull()) {
                upstream.pause();
                response.drainHandler(v -> upstream.resume());
            }
        });
        upstream.exceptionHandler(error -> upstreamFailed(error.getMessage()));
        upstream.endHandler(v -> {
            if (finished) {
                return;
            }
            if (!meter.done()) {
                upstreamFailed("the upstream ended the stream before its end event");
                return;
            }
            finish(EventType.USAGE_REQUEST_COMPLETED, meter.upstreamUsage().orElse(null), null, null);
            response.end();
        });
    }

    /** One whole event of the answer: metered; written with the rest of its read, or left out; may cut the stream. */
    private void onEvent(byte[] data, int offset, int length, long start, long end, SseRelay relay, HttpServerResponse response) {
        if (finished) {
            return;
        }
        long before = meter.contentChunks();
        boolean usageOnlyBefore = meter.sawUsageOnlyChunk();
        meter.onData(data, offset, length);
        boolean isUsageOnlyChunk = !usageOnlyBefore && meter.sawUsageOnlyChunk();
        if (meter.contentChunks() > before) {
            long now = System.nanoTime();
            if (firstTokenMs == null) {
                firstTokenMs = elapsedMs();
            } else {
                metrics.timePerOutputToken(model, now - lastChunkNanos);
            }
            lastChunkNanos = now;
        }
        if (isUsageOnlyChunk && !clientWantsUsage) {
            relay.drop(start, end);
        }
        long newTokens = meter.contentChunks() - before;
        if (newTokens > 0 && holds.budget() != null && holds.budget().onTokens(newTokens)) {
            relay.flush(end); // this event was delivered, as the tokens billed say
            quotaExhausted(response);
            return;
        }
        long pending = meter.contentChunks() - emittedTokens;
        if (pending >= progress.tokens() || (pending > 0 && System.nanoTime() - lastEmitNanos >= progress.intervalNanos())) {
            emitStreamed(pending, meter.reasoningChunks() - emittedReasoning);
        }
    }

    /**
     * A hard budget ran out mid-stream: the tokens delivered so far are billed (a cancelled
     * request), the client gets a final OpenAI-shaped error event, the upstream request is reset.
     */
    private void quotaExhausted(HttpServerResponse response) {
        finish(EventType.USAGE_REQUEST_CANCELLED, null, null, "quota_exhausted");
        if (!response.ended()) {
            response.end(surface.streamError(new GatewayError(429, "insufficient_quota", "insufficient_quota",
                    "You exceeded your current quota; the answer was cut here.", null), meter.events()));
        }
        if (upstreamRequest != null) {
            upstreamRequest.reset();
        }
    }

    private void emitStreamed(long delta, long reasoningDelta) {
        emittedTokens += delta;
        emittedReasoning += reasoningDelta;
        lastEmitNanos = System.nanoTime();
        usage.emit(EventType.USAGE_TOKENS_STREAMED, requestId, trace, new TokensStreamed(requestId, principal.tenantId(),
                principal.keyId(), model, ++sequence, delta, api, reasoningDelta));
    }

    private void upstreamFailed(String reason) {
        if (finished) {
            return;
        }
        finish(EventType.USAGE_REQUEST_FAILED, null, new RequestError(502, "server_error", "upstream_error", reason), null);
        if (!ctx.response().headWritten()) {
            ErrorResponses.send(ctx, new GatewayError(502, "server_error", "upstream_error",
                    "The model server failed to answer.", null));
        } else if (!ctx.response().ended()) {
            // Mid-stream: close the stream with an error event in the API's shape, as the API itself does.
            ctx.response().end(surface.streamError(new GatewayError(502, "server_error", "upstream_error",
                    "The model server stopped answering.", null), meter.events()));
        }
    }

    /**
     * The terminal event, with the usage {@link TerminalUsage} says the outcome bills.
     */
    private void finish(EventType type, TokenUsage upstreamUsage, RequestError error, String cancelReason) {
        if (finished) {
            return; // exactly one terminal event per request
        }
        finished = true;
        lease.release();
        TokenUsage billed = TerminalUsage.of(type, upstreamUsage, meter.contentChunks(), meter.reasoningChunks(), emittedTokens, prompt,
                stream, CLIENT_DISCONNECT.equals(cancelReason));
        long prompt = billed.promptTokens();
        long completion = billed.completionTokens();
        holds.settle(UsageBilling.streamed(emittedTokens, emittedReasoning)
                .plus(UsageBilling.terminal(type, billed, emittedTokens, emittedReasoning)));
        int status = switch (type) {
            case USAGE_REQUEST_FAILED -> error == null ? 502 : error.httpStatus();
            case USAGE_REQUEST_CANCELLED -> 499;
            default -> ctx.response().getStatusCode();
        };
        metrics.request(model, surface.operation(), principal.tier(), status, System.nanoTime() - startNanos);
        metrics.tokens(model, "input", prompt);
        metrics.tokens(model, "output", completion);
        if (firstTokenMs != null) {
            metrics.timeToFirstToken(model, firstTokenMs);
        }
        endUpstreamSpan(prompt, completion, type == EventType.USAGE_REQUEST_FAILED
                ? (error == null ? "upstream_error" : error.code()) : null);
        usage.emit(type, requestId, trace, new RequestFinished(requestId, principal.tenantId(), principal.keyId(), model, api,
                lease.slot().name(), billed, emittedTokens, elapsedMs(), firstTokenMs,
                upstreamUsage, error, cancelReason, emittedReasoning));
    }

    /** A GenAI client span for one try on an endpoint ({@code chat my-model}). */
    private Span upstreamSpan(EndpointPool.Slot slot) {
        var span = tracer.spanBuilder(surface.operation() + " " + model).setSpanKind(SpanKind.CLIENT).setParent(trace)
                .setAttribute("gen_ai.operation.name", surface.operation())
                .setAttribute("gen_ai.request.model", model)
                .setAttribute("tollgate.endpoint", slot.name())
                .setAttribute("tollgate.attempt", attempts);
        if (slot.host() != null) {
            span.setAttribute("server.address", slot.host());
        }
        if (slot.port() > 0) {
            span.setAttribute("server.port", slot.port());
        }
        return span.startSpan();
    }

    /** Ends the current try's span: with the token counts when known, as an error when {@code error} names one. */
    private void endUpstreamSpan(long inputTokens, long outputTokens, String error) {
        Span span = upstreamSpan;
        if (span == null) {
            return;
        }
        upstreamSpan = null;
        if (inputTokens >= 0) {
            span.setAttribute("gen_ai.usage.input_tokens", inputTokens);
            span.setAttribute("gen_ai.usage.output_tokens", outputTokens);
        }
        if (error != null) {
            span.setStatus(StatusCode.ERROR, error);
        }
        span.end();
    }

    private long elapsedMs() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static long orDefault(Long value, long fallback) {
        return value == null ? fallback : value;
    }
}
