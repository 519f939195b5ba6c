package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.http.ErrorResponses;
import dev.tollgate.gateway.http.RequestTelemetry;
import dev.tollgate.gateway.metering.TerminalUsage;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.metrics.GatewayMetrics;
import dev.tollgate.gateway.quota.Budgets;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.quota.UnpricedModels;
import dev.tollgate.gateway.scheduling.FairQueue;
import dev.tollgate.gateway.scheduling.PriorityClasses;
import dev.tollgate.gateway.scheduling.UpstreamPriority;
import dev.tollgate.gateway.surface.ApiSurface;
import dev.tollgate.gateway.surface.MeteredFields;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.key.KeyScopes;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RejectReason;
import dev.tollgate.schemas.usage.RequestError;
import dev.tollgate.schemas.usage.RequestRejected;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Admits one inference request and hands it to its {@link UpstreamCall}: parse and check the body
 * (strict types, the token ceiling: its API's {@link ApiSurface}), scopes, models and prices, whether
 * the model's pool speaks the API, rate limits and budgets, the endpoint (or a place in the pool's
 * fair queue), and every refusal with its never-charged {@code request.rejected} event. Knows no API's
 * fields itself (ADR 0029). One instance per event loop (ADR 0025).
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
    /** Bodies larger than this are parsed on a worker thread, not the event loop (issue #19 item 4). */
    static final int PARSE_ON_LOOP_BYTES = 64 * 1024;
    /** Span attributes: the request's scheduling class and how long it waited for capacity. */
    static final String PRIORITY_CLASS_ATTRIBUTE = "tollgate.priority_class";
    static final String QUEUE_MS_ATTRIBUTE = "tollgate.queue.ms";

    /** Names the budgets over a soft limit on an answer that was still served. */
    public static final String SOFT_LIMIT_HEADER = "x-tollgate-quota-soft-limit";
    /** A prepaid or hybrid tenant's balance before the request, in micro-units of its currency, and that currency (ADR 0027). */
    public static final String BALANCE_HEADER = "x-tollgate-balance-remaining";
    public static final String BALANCE_CURRENCY_HEADER = "x-tollgate-balance-currency";

    /** Largest {@code max_tokens} a request may ask for. */
    static final long DEFAULT_MAX_TOKENS_CEILING = 131_072;

    private final Vertx vertx;
    /** What each admitted request's upstream call uses. */
    private final UpstreamCall.Services services;
    private final Supplier<EndpointPool> pools;
    private final UsageEmitter usage;
    private final long maxTokensCeiling = DEFAULT_MAX_TOKENS_CEILING;

    private final RateLimits limits;
    private final Budgets budgets;
    private final UnpricedModels unpriced;
    private final GatewayMetrics metrics;

    /**
     * @param pools   the current endpoints (replaced when the upstream file is reloaded)
     * @param limits  requests, tokens per minute and concurrency per tenant and key
     * @param budgets daily and period budgets from the projector's quota state; null for none
     * @param unpriced refuses models without a price on the tenant's plan; null to serve them all
     * @param metrics what /metrics exports
     * @param openTelemetry makes the upstream call's span and carries its context to the model server
     * @param progress how often a stream's {@code tokens.streamed} events go out
     */
    public InferenceProxy(Vertx vertx, HttpClient client, Supplier<EndpointPool> pools,
                          UsageEmitter usage, RateLimits limits, Budgets budgets, UnpricedModels unpriced, GatewayMetrics metrics,
                          OpenTelemetry openTelemetry, StreamProgress progress) {
        this.unpriced = unpriced;
        this.metrics = metrics;
        this.services = new UpstreamCall.Services(vertx, client, usage, metrics, openTelemetry, openTelemetry.getTracer("dev.tollgate.gateway"),
                progress);
        this.vertx = vertx;
        this.pools = pools;
        this.usage = usage;
        this.limits = limits;
        this.budgets = budgets;
    }

    public void handle(RoutingContext ctx, Principal principal, ApiSurface surface) {
        Endpoint api = surface.endpoint();
        if (budgets != null) {
            // Only the key's own tenant's balance, on every answer to it (refusals included).
            budgets.balance(principal.tenantId()).ifPresent(balance -> ctx.response()
                    .putHeader(BALANCE_HEADER, Long.toString(balance.remainingMicros()))
                    .putHeader(BALANCE_CURRENCY_HEADER, balance.currency()));
        }
        if (!principal.mayCall(api)) {
            refusePermission(ctx, principal, api, null, GatewayError.scopeMissing(surface.path(), KeyScopes.of(api)));
            return;
        }
        if (!principal.limitsAllow(api)) {
            refusePermission(ctx, principal, api, null, GatewayError.endpointNotAllowed(surface.path()));
            return;
        }
        if (surface.multipart()) { // an upload the router spooled to disk (ADR 0031): its text fields stand for the body
            try {
                handle(ctx, principal, surface, surface.formFields(ctx));
            } catch (MeteredFields.Invalid e) {
                ErrorResponses.send(ctx, e.error());
            }
            return;
        }
        Buffer raw = ctx.body().buffer();
        if (raw != null && raw.length() > PARSE_ON_LOOP_BYTES) {
            // Megabytes of JSON take the event loop for up to a second: parse them on a worker thread and come back.
            vertx.executeBlocking(() -> RequestBodies.parse(raw), false).onComplete(parsed -> {
                if (parsed.failed()) {
                    invalidBody(ctx, parsed.cause());
                } else if (!ctx.response().closed()) {
                    handle(ctx, principal, surface, parsed.result());
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
        handle(ctx, principal, surface, body);
    }

    private static void invalidBody(RoutingContext ctx, Throwable e) {
        String message = e instanceof RequestBodies.InvalidBody ? e.getMessage() : "The request body could not be read.";
        ErrorResponses.send(ctx, new GatewayError(400, "invalid_request_error", "invalid_json", message, null));
    }

    /** The request with its body parsed: validation, admission, routing. */
    private void handle(RoutingContext ctx, Principal principal, ApiSurface called, JsonObject body) {
        ApiSurface surface = called;
        Endpoint api = surface.endpoint();
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
        UpstreamConfig.Pool pool = endpoints.config().pools().get(route.pool());
        if (!pool.speaks(KeyScopes.of(api)) && surface.overChatCompletions() != null && pool.speaks(KeyScopes.of(Endpoint.CHAT_COMPLETIONS))) {
            surface = surface.overChatCompletions(); // translated to and from chat completions (ADR 0029)
        } else if (!pool.speaks(KeyScopes.of(api))) {
            ErrorResponses.send(ctx, new GatewayError(404, "invalid_request_error", "api_not_served", "The model '"
                    + GatewayError.echoed(model) + "' is not served through " + surface.path() + " here.", "model"));
            return;
        }
        MeteredFields fields;
        try {
            fields = surface.read(body, maxTokensCeiling);
        } catch (MeteredFields.Invalid e) {
            ErrorResponses.send(ctx, e.error());
            return;
        }
        surface = surface.forRequest(body);
        boolean stream = fields.stream();
        boolean clientWantsUsage = fields.clientWantsUsage();
        surface.prepare(body, fields);
        if (route.upstreamModel() != null) {
            body.put("model", route.upstreamModel());
        }
        TerminalUsage.PromptSize prompt = PromptEstimate.of(body).withDocuments(fields.documents()); // one walk of the body for both figures
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
            Object verdict = budgets.admit(principal, model, api, promptEstimate, fields.reservedCompletionTokens());
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
        int priorityClass = endpoints.classes().of(principal);
        String className = endpoints.classes().name(priorityClass);
        Span.fromContext(RequestTelemetry.context(ctx)).setAttribute(PRIORITY_CLASS_ATTRIBUTE, className);
        UpstreamPriority.applyTo(body, pool, className);
        EndpointPool.Affinity affinityKey = affinity(ctx, pool, body);
        Admitted admitted = new Admitted(principal, surface, model, stream, clientWantsUsage, className, body, holds, prompt,
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
    private record Admitted(Principal principal, ApiSurface surface, String model, boolean stream, boolean clientWantsUsage,
                            String priorityClass, JsonObject body, Holds holds, TerminalUsage.PromptSize prompt,
                            long reservedCompletionTokens) {
        Endpoint api() {
            return surface.endpoint();
        }
    }

    private void start(RoutingContext ctx, Admitted a, EndpointPool endpoints, EndpointPool.Lease lease, EndpointPool.Affinity affinityKey) {
        var call = new UpstreamCall(services, ctx, a.principal(), a.surface(), a.model(), a.stream(), a.clientWantsUsage(), endpoints,
                lease, affinityKey, a.holds());
        call.accepted(a.prompt(), a.reservedCompletionTokens(), a.priorityClass());
        call.send(a.body());
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

    /**
     * 429 {@code insufficient_quota} (as the OpenAI API answers an exhausted budget), or 402 with the same code when a
     * prepaid balance cannot cover the request (waiting does not help: no Retry-After), and a never-charged rejection event.
     */
    private void refuseBudget(RoutingContext ctx, Principal principal, Endpoint api, String model, Budgets.Refusal refusal) {
        metrics.refusal(refusal.prepaid() ? "balance" : "budget");
        GatewayError error;
        if (refusal.prepaid()) {
            ctx.response().putHeader(BALANCE_HEADER, Long.toString(refusal.balanceMicros()));
            error = new GatewayError(402, "insufficient_quota", "insufficient_quota", refusal.message(), null);
        } else {
            ctx.response().putHeader("retry-after", Long.toString(refusal.retryAfterSeconds()));
            error = new GatewayError(429, "insufficient_quota", "insufficient_quota", refusal.message(), null);
        }
        String requestId = RequestTelemetry.requestId(ctx);
        usage.emit(EventType.USAGE_REQUEST_REJECTED, requestId, RequestTelemetry.context(ctx), new RequestRejected(requestId,
                principal.tenantId(), principal.keyId(), model, api, RejectReason.QUOTA,
                new RequestError(error.status(), error.type(), error.code(), error.message()), refusal.subject()));
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

}
