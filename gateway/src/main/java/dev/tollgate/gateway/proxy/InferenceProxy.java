package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.http.ErrorResponses;
import dev.tollgate.gateway.http.RequestTelemetry;
import dev.tollgate.gateway.metering.SseScanner;
import dev.tollgate.gateway.metering.StreamMeter;
import dev.tollgate.gateway.metering.TerminalUsage;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.metering.UsageExtractor;
import dev.tollgate.gateway.metrics.GatewayMetrics;
import dev.tollgate.gateway.quota.Budgets;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.quota.UnpricedModels;
import dev.tollgate.gateway.scheduling.FairQueue;
import dev.tollgate.gateway.scheduling.PriorityClasses;
import dev.tollgate.gateway.scheduling.UpstreamPriority;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.key.KeyScopes;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RejectReason;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestError;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.RequestRejected;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Forwards one inference request to a pool endpoint and meters it: parse and check the body,
 * choose the endpoint, send with the pool's credential (never the tenant's), stream the answer back
 * chunk by chunk with backpressure, and emit the usage events. For streamed requests it asks the
 * upstream for usage ({@code stream_options.include_usage}) and drops the usage-only chunk if the
 * client did not ask for it. A client that goes away cancels the upstream request.
 *
 * <p>A connection failure, a first-byte timeout or a 5xx before anything reached the client is
 * retried on another endpoint of the pool (at most {@link #MAX_ATTEMPTS} tries); after the first
 * byte, an upstream failure ends the stream with an error event.
 *
 * <p>Failures count against the endpoint (passive ejection, see {@code EndpointPool}).
 *
 * <p>When every endpoint is at its {@code maxConcurrency}, a request waits in its pool's bounded
 * queue (the sum of the endpoints' {@code maxQueued}) for at most the first-byte timeout; a full
 * queue or a wait that runs out answers 503 with {@code Retry-After}.
 *
 * <p>Before routing, the request must pass the per-tenant and per-key requests-per-minute,
 * tokens-per-minute and concurrency limits ({@link RateLimits}); a refusal is a 429 with
 * {@code Retry-After} and {@code x-ratelimit-*} headers and a never-charged {@code request.rejected}
 * event. Daily and period limits from quota.state.v1 are the quota issue's.
 */
public final class InferenceProxy {
    static final int MAX_SSE_EVENT_BYTES = 1024 * 1024;
    /** Tries per request, each on another endpoint, while nothing has reached the client. */
    static final int MAX_ATTEMPTS = 3;
    /** Bodies larger than this are parsed on a worker thread, not the event loop (issue #19 item 4). */
    static final int PARSE_ON_LOOP_BYTES = 64 * 1024;
    /** The cancel reason of a request whose client went away. */
    static final String CLIENT_DISCONNECT = "client_disconnect";

    /** Span attributes: the request's scheduling class and how long it waited for capacity. */
    static final String PRIORITY_CLASS_ATTRIBUTE = "tollgate.priority_class";
    static final String QUEUE_MS_ATTRIBUTE = "tollgate.queue.ms";

    /** Names the budgets over a soft limit on an answer that was still served. */
    public static final String SOFT_LIMIT_HEADER = "x-tollgate-quota-soft-limit";

    /** Largest {@code max_tokens} a request may ask for. */
    static final long DEFAULT_MAX_TOKENS_CEILING = 131_072;

    private final io.vertx.core.Vertx vertx;
    private final HttpClient client;
    private final java.util.function.Supplier<EndpointPool> pools;
    private final UsageEmitter usage;
    private final long maxTokensCeiling = DEFAULT_MAX_TOKENS_CEILING;

    private final RateLimits limits;
    private final Budgets budgets;
    private final UnpricedModels unpriced;
    private final GatewayMetrics metrics;
    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;
    /** How often a stream's {@code tokens.streamed} events go out. */
    private final StreamProgress progress;

    /** What an admitted request holds: its rate-limit admission and its budget hold (null without budgets). */
    private record Holds(RateLimits.Admission admission, Budgets.Hold budget) {
        /** Gives everything back: the request never reached an upstream. */
        void release() {
            admission.settle(0);
            if (budget != null) {
                budget.settle(0, 0, 0, Instant.now());
            }
        }

        void settle(long uncachedPrompt, long cachedPrompt, long completion) {
            admission.settle(uncachedPrompt + cachedPrompt + completion);
            if (budget != null) {
                budget.settle(uncachedPrompt, cachedPrompt, completion, Instant.now());
            }
        }
    }

    /**
     * @param pools   the current endpoints (replaced when the upstream file is reloaded)
     * @param limits  requests, tokens per minute and concurrency per tenant and key
     * @param budgets daily and period budgets from the projector's quota state; null for none
     * @param unpriced refuses models without a price on the tenant's plan; null to serve them all
     * @param metrics what /metrics exports
     * @param openTelemetry makes the upstream call's span and carries its context to the model server
     * @param progress how often a stream's {@code tokens.streamed} events go out
     */
    public InferenceProxy(io.vertx.core.Vertx vertx, HttpClient client, java.util.function.Supplier<EndpointPool> pools,
                          UsageEmitter usage, RateLimits limits, Budgets budgets, UnpricedModels unpriced, GatewayMetrics metrics,
                          OpenTelemetry openTelemetry, StreamProgress progress) {
        this.progress = progress;
        this.unpriced = unpriced;
        this.metrics = metrics;
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("dev.tollgate.gateway");
        this.vertx = vertx;
        this.client = client;
        this.pools = pools;
        this.usage = usage;
        this.limits = limits;
        this.budgets = budgets;
    }

    public void handle(RoutingContext ctx, Principal principal, Endpoint api, String path) {
        if (!principal.mayCall(api)) {
            refusePermission(ctx, principal, api, null, GatewayError.scopeMissing(path, KeyScopes.of(api)));
            return;
        }
        Buffer raw = ctx.body().buffer();
        if (raw != null && raw.length() > PARSE_ON_LOOP_BYTES) {
            // Megabytes of JSON take the event loop for up to a second: parse them on a worker thread and come back.
            vertx.executeBlocking(() -> RequestBodies.parse(raw), false).onComplete(parsed -> {
                if (parsed.failed()) {
                    invalidBody(ctx, parsed.cause());
                } else if (!ctx.response().closed()) {
                    handle(ctx, principal, api, path, parsed.result());
                }
            });
            return;
        }
        JsonObject body;
        try {
            body = RequestBodies.parse(raw);
        } catch (RequestBodies.InvalidBody e) {
            invalidBody(ctx, e);
            return;
        }
        handle(ctx, principal, api, path, body);
    }

    private static void invalidBody(RoutingContext ctx, Throwable e) {
        String message = e instanceof RequestBodies.InvalidBody ? e.getMessage() : "The request body could not be read.";
        ErrorResponses.send(ctx, new GatewayError(400, "invalid_request_error", "invalid_json", message, null));
    }

    /** The request with its body parsed: validation, admission, routing. */
    private void handle(RoutingContext ctx, Principal principal, Endpoint api, String path, JsonObject body) {
        Object modelValue = body.getValue("model");
        if (!(modelValue instanceof String model) || model.isBlank()) {
            ErrorResponses.send(ctx, new GatewayError(400, "invalid_request_error", "missing_model",
                    "You must provide a model parameter.", "model"));
            return;
        }
        RequestTelemetry.model(ctx, model);
        EndpointPool endpoints = pools.get();
        UpstreamConfig.ModelRoute route = endpoints.config().models().get(model);
        if (route == null || !principal.mayUse(model)) {
            ErrorResponses.send(ctx, GatewayError.modelNotFound(model));
            return;
        }
        if (unpriced != null && !unpriced.mayCall(principal.tenantId(), model)) {
            refusePermission(ctx, principal, api, model, GatewayError.modelNotPriced(model));
            return;
        }
        MeteredFields fields;
        try {
            fields = MeteredFields.read(body, maxTokensCeiling);
        } catch (MeteredFields.Invalid e) {
            ErrorResponses.send(ctx, e.error());
            return;
        }
        boolean stream = fields.stream();
        boolean clientWantsUsage = fields.clientWantsUsage();
        if (stream) {
            JsonObject options = body.getValue("stream_options") instanceof JsonObject o ? o.copy() : new JsonObject();
            body.put("stream_options", options.put("include_usage", true));
        }
        if (route.upstreamModel() != null) {
            body.put("model", route.upstreamModel());
        }
        TerminalUsage.PromptSize prompt = PromptEstimate.of(body); // one walk of the body for both figures
        long promptEstimate = prompt.estimate();
        long reserve = promptEstimate + fields.reservedCompletionTokens();
        Object decision = limits.admit(principal, reserve);
        if (decision instanceof RateLimits.Refusal refusal) {
            refuse(ctx, principal, api, model, refusal);
            return;
        }
        RateLimits.Admission admission = (RateLimits.Admission) decision;
        rateLimitHeaders(ctx, admission.headers());
        Budgets.Hold budget = null;
        if (budgets != null) {
            Object verdict = budgets.admit(principal, model, promptEstimate, fields.reservedCompletionTokens());
            if (verdict instanceof Budgets.Refusal refusal) {
                admission.settle(0);
                refuseBudget(ctx, principal, api, model, refusal);
                return;
            }
            budget = (Budgets.Hold) verdict;
            if (!budget.softLimited().isEmpty()) {
                ctx.response().putHeader(SOFT_LIMIT_HEADER, String.join(",", budget.softLimited()));
            }
        }
        Holds holds = new Holds(admission, budget);
        if (!usage.accepting()) {
            holds.release();
            ctx.response().putHeader("retry-after", "5");
            ErrorResponses.send(ctx, new GatewayError(503, "server_error", "metering_unavailable",
                    "Usage cannot be recorded right now; retry shortly.", null));
            return;
        }
        UpstreamConfig.Pool pool = endpoints.config().pools().get(route.pool());
        int priorityClass = endpoints.classes().of(principal);
        String className = endpoints.classes().name(priorityClass);
        Span.fromContext(RequestTelemetry.context(ctx)).setAttribute(PRIORITY_CLASS_ATTRIBUTE, className);
        UpstreamPriority.applyTo(body, pool, className);
        EndpointPool.Affinity affinityKey = affinity(ctx, pool, body);
        Admitted admitted = new Admitted(principal, api, model, stream, clientWantsUsage, className, path, body, holds, prompt,
                fields.reservedCompletionTokens());
        Optional<EndpointPool.Lease> lease = endpoints.acquire(model, Set.of(), affinityKey);
        if (lease.isPresent()) {
            metrics.queueTime(className, 0);
            start(ctx, admitted, endpoints, lease.get(), affinityKey);
            return;
        }
        // Every endpoint is at capacity: wait in the pool's fair queue (ADR 0023), at most the first-byte timeout.
        io.vertx.core.Context context = vertx.getOrCreateContext();
        long waitMs = pool.timeouts() == null || pool.timeouts().firstByteMs() == null
                ? UpstreamConfig.Timeouts.DEFAULT.firstByteMs() : pool.timeouts().firstByteMs();
        long[] timer = {-1};
        long enqueuedNanos = System.nanoTime();
        EndpointPool.Enqueued queued = endpoints.enqueue(model, affinityKey, priorityClass, principal.tenantId(), PriorityClasses.weight(principal),
                granted -> context.runOnContext(v -> {
                    vertx.cancelTimer(timer[0]);
                    if (ctx.response().closed()) {
                        granted.release();
                        holds.release();
                        return;
                    }
                    long waitedNanos = System.nanoTime() - enqueuedNanos;
                    metrics.queueTime(className, waitedNanos);
                    Span.fromContext(RequestTelemetry.context(ctx)).setAttribute(QUEUE_MS_ATTRIBUTE, waitedNanos / 1_000_000);
                    start(ctx, admitted, endpoints, granted, affinityKey);
                }),
                () -> context.runOnContext(v -> {
                    vertx.cancelTimer(timer[0]);
                    holds.release();
                    if (!ctx.response().closed()) {
                        refuseCapacity(ctx, admitted, CapacityRefusal.SHED, waitMs);
                    }
                }));
        if (queued.waiter() == null) {
            holds.release();
            refuseCapacity(ctx, admitted, queued.refusal() == FairQueue.Refusal.TENANT_FULL ? CapacityRefusal.TENANT_QUEUE_FULL
                    : CapacityRefusal.QUEUE_FULL, waitMs);
            return;
        }
        EndpointPool.Waiter waiter = queued.waiter();
        timer[0] = vertx.setTimer(waitMs, id -> {
            if (endpoints.cancel(waiter)) {
                holds.release();
                refuseCapacity(ctx, admitted, CapacityRefusal.TIMED_OUT, waitMs);
            }
        });
        ctx.response().closeHandler(v -> {
            vertx.cancelTimer(timer[0]);
            if (endpoints.cancel(waiter)) {
                holds.release();
            }
        });
    }

    /**
     * What keeps the request near its KV cache, by the pool's policy: the session header (or, for
     * {@code affinity}, the prompt's first 256 characters) and, for {@code prefix-aware}, its prefix blocks.
     */
    private static EndpointPool.Affinity affinity(RoutingContext ctx, UpstreamConfig.Pool pool, JsonObject body) {
        return switch (pool.policyOrDefault()) {
            case "affinity" -> EndpointPool.Affinity.session(Optional.ofNullable(ctx.request().getHeader(pool.affinityHeaderOrDefault()))
                    .orElseGet(() -> PromptEstimate.prefix(body, 256)));
            case "prefix-aware" -> new EndpointPool.Affinity(ctx.request().getHeader(pool.affinityHeaderOrDefault()),
                    PromptPrefix.blocks(body, pool.prefixOrDefault()));
            default -> EndpointPool.Affinity.NONE;
        };
    }

    /** What an admitted request carries to its upstream call. */
    private record Admitted(Principal principal, Endpoint api, String model, boolean stream, boolean clientWantsUsage, String priorityClass,
                            String path, JsonObject body, Holds holds, TerminalUsage.PromptSize prompt, long reservedCompletionTokens) {}

    private void start(RoutingContext ctx, Admitted a, EndpointPool endpoints, EndpointPool.Lease lease, EndpointPool.Affinity affinityKey) {
        var call = new Call(ctx, a.principal(), a.api(), a.model(), a.stream(), a.clientWantsUsage(), endpoints, lease, affinityKey, a.holds());
        call.accepted(a.prompt(), a.reservedCompletionTokens(), a.priorityClass());
        call.send(a.path(), a.body());
    }

    /**
     * 429 in the OpenAI shape with x-ratelimit-* headers, Retry-After when waiting can help ({@code request_too_large}
     * without it when the request exceeds the whole limit), and a never-charged rejection event.
     */
    private void refuse(RoutingContext ctx, Principal principal, Endpoint api, String model, RateLimits.Refusal refusal) {
        metrics.refusal(refusal.quotaKind());
        rateLimitHeaders(ctx, refusal.headers());
        GatewayError error;
        if (refusal.retryable()) {
            ctx.response().putHeader("retry-after", Long.toString(refusal.retryAfterSeconds()));
            error = new GatewayError(429, "requests", "rate_limit_exceeded", refusal.message(), null);
        } else {
            error = new GatewayError(429, "tokens", "request_too_large", refusal.message(), "max_tokens");
        }
        String requestId = RequestTelemetry.requestId(ctx);
        usage.emit(EventType.USAGE_REQUEST_REJECTED, requestId, RequestTelemetry.context(ctx), new RequestRejected(requestId,
                principal.tenantId(), principal.keyId(), model, api, RejectReason.QUOTA,
                new RequestError(429, error.type(), error.code(), error.message()), refusal.quotaKind()));
        ErrorResponses.send(ctx, error);
    }

    /** A key that may not call this endpoint, or a model without a price: the error and a never-charged rejection event. */
    private void refusePermission(RoutingContext ctx, Principal principal, Endpoint api, String model, GatewayError error) {
        metrics.permissionRefusal(error.code());
        String requestId = RequestTelemetry.requestId(ctx);
        usage.emit(EventType.USAGE_REQUEST_REJECTED, requestId, RequestTelemetry.context(ctx), new RequestRejected(requestId,
                principal.tenantId(), principal.keyId(), model, api, RejectReason.PERMISSION,
                new RequestError(error.status(), error.type(), error.code(), error.message()), null));
        ErrorResponses.send(ctx, error);
    }

    /** 429 {@code insufficient_quota} (as the OpenAI API answers an exhausted budget) and a never-charged rejection event. */
    private void refuseBudget(RoutingContext ctx, Principal principal, Endpoint api, String model, Budgets.Refusal refusal) {
        metrics.refusal("budget");
        ctx.response().putHeader("retry-after", Long.toString(refusal.retryAfterSeconds()));
        GatewayError error = new GatewayError(429, "insufficient_quota", "insufficient_quota", refusal.message(), null);
        String requestId = RequestTelemetry.requestId(ctx);
        usage.emit(EventType.USAGE_REQUEST_REJECTED, requestId, RequestTelemetry.context(ctx), new RequestRejected(requestId,
                principal.tenantId(), principal.keyId(), model, api, RejectReason.QUOTA,
                new RequestError(429, error.type(), error.code(), error.message()), refusal.subject()));
        ErrorResponses.send(ctx, error);
    }

    /** The x-ratelimit-* headers as the OpenAI API sends them (reset as a duration, e.g. {@code 30s}). */
    private static void rateLimitHeaders(RoutingContext ctx, RateLimits.Headers h) {
        var response = ctx.response();
        if (h.limitRequests() != null) {
            response.putHeader("x-ratelimit-limit-requests", h.limitRequests().toString())
                    .putHeader("x-ratelimit-remaining-requests", h.remainingRequests().toString())
                    .putHeader("x-ratelimit-reset-requests", h.resetRequestsSeconds() + "s");
        }
        if (h.limitTokens() != null) {
            response.putHeader("x-ratelimit-limit-tokens", h.limitTokens().toString())
                    .putHeader("x-ratelimit-remaining-tokens", h.remainingTokens().toString())
                    .putHeader("x-ratelimit-reset-tokens", h.resetTokensSeconds() + "s");
        }
    }

    /** Why a request found no capacity (ADR 0023). */
    enum CapacityRefusal { QUEUE_FULL, TENANT_QUEUE_FULL, SHED, TIMED_OUT }

    /**
     * 503 {@code upstream_capacity} (429 {@code tenant_queue_full} when the tenant's own requests fill its
     * share of the queue) with {@code Retry-After}, and a never-charged {@code request.rejected} event with
     * reason {@code CAPACITY} and the request's class.
     */
    private void refuseCapacity(RoutingContext ctx, Admitted a, CapacityRefusal why, long waitMs) {
        metrics.capacityRefusal(a.priorityClass(), why.name().toLowerCase(Locale.ROOT));
        ctx.response().putHeader("retry-after", "1");
        GatewayError error = switch (why) {
            case TENANT_QUEUE_FULL -> new GatewayError(429, "requests", "tenant_queue_full",
                    "Your requests already fill your share of this model's queue; retry shortly.", null);
            case SHED -> new GatewayError(503, "server_error", "upstream_capacity",
                    "Every endpoint serving this model is at capacity and this request gave its place to higher-priority work; retry shortly.", null);
            case TIMED_OUT -> new GatewayError(503, "server_error", "upstream_capacity",
                    "Every endpoint serving this model stayed at capacity for " + waitMs + " ms; retry shortly.", null);
            case QUEUE_FULL -> new GatewayError(503, "server_error", "upstream_capacity",
                    "Every endpoint serving this model is at capacity and its queue is full; retry shortly.", null);
        };
        String requestId = RequestTelemetry.requestId(ctx);
        usage.emit(EventType.USAGE_REQUEST_REJECTED, requestId, RequestTelemetry.context(ctx), new RequestRejected(requestId,
                a.principal().tenantId(), a.principal().keyId(), a.model(), a.api(), RejectReason.CAPACITY,
                new RequestError(error.status(), error.type(), error.code(), error.message()), null, a.priorityClass()));
        ErrorResponses.send(ctx, error);
    }

    /** One proxied request from acceptance to its terminal usage event. */
    private final class Call {
        private final RoutingContext ctx;
        private final Principal principal;
        private final Endpoint api;
        private final String model;
        private final boolean stream;
        private final boolean clientWantsUsage;
        private final EndpointPool endpoints;
        private EndpointPool.Lease lease;
        private final java.util.Set<EndpointPool.Slot> tried = new java.util.HashSet<>();
        private int attempts;
        private long firstByteTimer = -1;
        private String path;
        private Buffer payload;
        private final String requestId;
        /** The request's server span: the parent of the upstream span and of every usage event's span. */
        private final Context trace;
        private Span upstreamSpan;
        private final long startNanos = System.nanoTime();
        private final StreamMeter meter = new StreamMeter();
        /** What the prompt is billed when the model server gave no count (ADR 0022). */
        private TerminalUsage.PromptSize prompt;
        /** The request's scheduling class, told to servers whose pool asks for it by header. */
        private String priorityClass;
        private Long firstTokenMs;
        private long emittedTokens;
        private long sequence;
        private long lastEmitNanos = System.nanoTime();
        private long lastChunkNanos;
        private boolean finished;
        private HttpClientRequest upstreamRequest;

        private final EndpointPool.Affinity affinityKey;
        private final Holds holds;

        Call(RoutingContext ctx, Principal principal, Endpoint api, String model, boolean stream, boolean clientWantsUsage,
             EndpointPool endpoints, EndpointPool.Lease lease, EndpointPool.Affinity affinityKey, Holds holds) {
            this.endpoints = endpoints;
            this.affinityKey = affinityKey;
            this.holds = holds;
            this.ctx = ctx;
            this.principal = principal;
            this.api = api;
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

        void send(String path, JsonObject body) {
            this.path = path;
            this.payload = Buffer.buffer(body.encode());
            attempt();
        }

        /** One try on the current lease; {@link #retryOrFail} moves to another endpoint. */
        private void attempt() {
            attempts++;
            tried.add(lease.slot());
            UpstreamConfig.Timeouts timeouts = lease.pool().timeouts() == null ? UpstreamConfig.Timeouts.DEFAULT : lease.pool().timeouts();
            var options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(lease.slot().url() + path)
                    .putHeader("content-type", "application/json")
                    .setConnectTimeout(orDefault(timeouts.connectMs(), 2_000L))
                    .setIdleTimeout(orDefault(timeouts.idleMs(), 60_000L));
            if (lease.pool().credential() != null && !lease.pool().credential().isBlank()) {
                options.putHeader("authorization", "Bearer " + lease.pool().credential());
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
                        return request.send(payload);
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
                TokenUsage upstreamUsage = UsageExtractor.fromJson(text).orElse(null);
                // The terminal event first: ending the response can close the connection at once,
                // and its close handler must not take the request for a client that went away.
                if (upstream.statusCode() >= 400) {
                    finish(EventType.USAGE_REQUEST_FAILED, upstreamUsage, new RequestError(upstream.statusCode(),
                            "upstream_error", "upstream_status_" + upstream.statusCode(), null), null);
                } else {
                    finish(EventType.USAGE_REQUEST_COMPLETED, upstreamUsage, null, null);
                }
                response.end(buffer);
            }).onFailure(error -> upstreamFailed(error.getMessage()));
        }

        private void relayStream(HttpClientResponse upstream, HttpServerResponse response) {
            response.setChunked(true).putHeader("cache-control", "no-cache");
            var relay = new SseRelay(response);
            var scanner = new SseScanner(MAX_SSE_EVENT_BYTES, (data, offset, length, start, end) -> onEvent(data, offset, length, start, end,
                    relay, response));
            upstream.handler(buffer -> {
                relay.received(buffer);
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
                relay.flush(scanner.boundary());
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
                    upstreamFailed("the upstream ended the stream without [DONE]");
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
                emitStreamed(pending);
            }
        }

        /**
         * A hard budget ran out mid-stream: the tokens delivered so far are billed (a cancelled
         * request), the client gets a final OpenAI-shaped error event, the upstream request is reset.
         */
        private void quotaExhausted(HttpServerResponse response) {
            finish(EventType.USAGE_REQUEST_CANCELLED, null, null, "quota_exhausted");
            if (!response.ended()) {
                response.end("data: {\"error\":{\"message\":\"You exceeded your current quota; the answer was cut here.\","
                        + "\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}\n\n");
            }
            if (upstreamRequest != null) {
                upstreamRequest.reset();
            }
        }

        private void emitStreamed(long delta) {
            emittedTokens += delta;
            lastEmitNanos = System.nanoTime();
            usage.emit(EventType.USAGE_TOKENS_STREAMED, requestId, trace, new TokensStreamed(requestId, principal.tenantId(),
                    principal.keyId(), model, ++sequence, delta));
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
                // Mid-stream: close the stream with an OpenAI-shaped error event, as the OpenAI API does.
                ctx.response().end("data: {\"error\":{\"message\":\"The model server stopped answering.\",\"type\":\"server_error\","
                        + "\"param\":null,\"code\":\"upstream_error\"}}\n\n");
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
            TokenUsage billed = TerminalUsage.of(type, upstreamUsage, meter.contentChunks(), emittedTokens, prompt, stream,
                    CLIENT_DISCONNECT.equals(cancelReason));
            long prompt = billed.promptTokens();
            long completion = billed.completionTokens();
            long cached = billed.cachedPromptTokens();
            holds.settle(prompt - cached, cached, completion);
            int status = switch (type) {
                case USAGE_REQUEST_FAILED -> error == null ? 502 : error.httpStatus();
                case USAGE_REQUEST_CANCELLED -> 499;
                default -> ctx.response().getStatusCode();
            };
            metrics.request(model, operation(api), principal.tier(), status, System.nanoTime() - startNanos);
            metrics.tokens(model, "input", prompt);
            metrics.tokens(model, "output", completion);
            if (firstTokenMs != null) {
                metrics.timeToFirstToken(model, firstTokenMs);
            }
            endUpstreamSpan(prompt, completion, type == EventType.USAGE_REQUEST_FAILED
                    ? (error == null ? "upstream_error" : error.code()) : null);
            usage.emit(type, requestId, trace, new RequestFinished(requestId, principal.tenantId(), principal.keyId(), model, api,
                    lease.slot().name(), billed, emittedTokens, elapsedMs(), firstTokenMs,
                    upstreamUsage, error, cancelReason));
        }

        /** A GenAI client span for one try on an endpoint ({@code chat my-model}). */
        private Span upstreamSpan(EndpointPool.Slot slot) {
            var span = tracer.spanBuilder(operation(api) + " " + model).setSpanKind(SpanKind.CLIENT).setParent(trace)
                    .setAttribute("gen_ai.operation.name", operation(api))
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
    }

    /** The OpenTelemetry GenAI operation name of an endpoint. */
    static String operation(Endpoint api) {
        return switch (api) {
            case CHAT_COMPLETIONS -> "chat";
            case COMPLETIONS -> "text_completion";
            case EMBEDDINGS -> "embeddings";
        };
    }

    private static long orDefault(Long value, long fallback) {
        return value == null ? fallback : value;
    }
}
