package dev.tollgate.gateway.http;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.surface.ApiSurfaces;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.telemetry.LogFields;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * Per request on {@code /v1/*}: the request id ({@code x-request-id} on every answer), the server
 * span (a child of the caller's {@code traceparent}, if any), and at the end one access-log line
 * (logger {@value #ACCESS_LOGGER}) with the trace, span, tenant, key and request ids. The API key
 * itself never reaches a span or a log line: only its id.
 */
public final class RequestTelemetry {
    /** The access log's logger name (its level can be changed like any other). */
    public static final String ACCESS_LOGGER = "dev.tollgate.gateway.access";
    static final String SPAN = "tollgate.span";
    static final String REQUEST_ID = "tollgate.request-id";
    static final String MODEL = "tollgate.model";
    /** Set for a refused key: the key id and tenant the presented key named, if it named a known one. */
    static final String REFUSED_KEY = "tollgate.refused-key";
    static final String REFUSED_TENANT = "tollgate.refused-tenant";

    private static final Logger ACCESS = LoggerFactory.getLogger(ACCESS_LOGGER);

    private static final TextMapGetter<MultiMap> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap headers) {
            return headers.names();
        }

        @Override
        public String get(MultiMap headers, String key) {
            return headers == null ? null : headers.get(key);
        }
    };

    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;

    public RequestTelemetry(OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("dev.tollgate.gateway");
    }

    public OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    /** The first handler of every API request. */
    void begin(RoutingContext ctx) {
        long start = System.nanoTime();
        String requestId = "req_" + UUID.randomUUID().toString().replace("-", "");
        ctx.put(REQUEST_ID, requestId);
        ctx.response().putHeader("x-request-id", requestId);
        String method = ctx.request().method().name();
        String route = route(ctx.request().path());
        Context parent = callerContext(ctx.request().headers());
        Span span = tracer.spanBuilder(method + " " + route).setSpanKind(SpanKind.SERVER).setParent(parent)
                .setAttribute("http.request.method", method)
                .setAttribute("http.route", route)
                .setAttribute("url.path", ctx.request().path())
                .setAttribute("tollgate.request.id", requestId)
                .startSpan();
        ctx.put(SPAN, span);
        ctx.addEndHandler(done -> end(ctx, span, method, start, done.succeeded()));
        ctx.next();
    }

    /**
     * The caller's trace, and only its trace (issue #19 item 12): the trace and parent span ids of its
     * {@code traceparent} continue, but its {@code tracestate} and {@code baggage} are dropped, since
     * they are the caller's data, which would otherwise travel to the model servers with every request.
     */
    static Context callerContext(MultiMap headers) {
        SpanContext caller = Span.fromContext(W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS))
                .getSpanContext();
        if (!caller.isValid()) {
            return Context.root();
        }
        return Context.root().with(Span.wrap(SpanContext.createFromRemoteParent(caller.getTraceId(), caller.getSpanId(),
                caller.getTraceFlags(), TraceState.getDefault())));
    }

    private void end(RoutingContext ctx, Span span, String method, long start, boolean completed) {
        int status = completed ? ctx.response().getStatusCode() : 499;
        Principal principal = ctx.get(GatewayServer.PRINCIPAL);
        String tenant = principal != null ? principal.tenantId() : ctx.get(REFUSED_TENANT);
        String key = principal != null ? principal.keyId() : ctx.get(REFUSED_KEY);
        String model = ctx.get(MODEL);
        span.setAttribute("http.response.status_code", status);
        if (tenant != null) {
            span.setAttribute("tollgate.tenant.id", tenant);
        }
        if (model != null) {
            span.setAttribute("gen_ai.request.model", model);
        }
        if (status >= 500) {
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
        SpanContext context = span.getSpanContext();
        var line = ACCESS.atInfo();
        if (context.isValid()) {
            line = line.addKeyValue(LogFields.TRACE_ID, context.getTraceId()).addKeyValue(LogFields.SPAN_ID, context.getSpanId());
        }
        line.addKeyValue(LogFields.REQUEST_ID, ctx.<String>get(REQUEST_ID))
                .addKeyValue(LogFields.TENANT_ID, tenant)
                .addKeyValue(LogFields.KEY_ID, key)
                .addKeyValue("http_method", method)
                .addKeyValue("http_path", ctx.request().path())
                .addKeyValue("http_status", status)
                .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000)
                .addKeyValue("bytes_sent", ctx.response().bytesWritten())
                .addKeyValue("model", model)
                .addKeyValue("client_address", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress())
                .log("{} {} {}", method, ctx.request().path(), status);
    }

    /** The request's trace context (the server span), for the spans and events it causes. */
    public static Context context(RoutingContext ctx) {
        Span span = ctx.get(SPAN);
        return span == null ? Context.root() : Context.root().with(span);
    }

    /** The request id given by {@link #begin} (a fresh one outside a traced request). */
    public static String requestId(RoutingContext ctx) {
        String id = ctx.get(REQUEST_ID);
        return id != null ? id : "req_" + UUID.randomUUID().toString().replace("-", "");
    }

    /** Records the model a request named (for the span and the access log), cut to what may be echoed. */
    public static void model(RoutingContext ctx, String model) {
        ctx.put(MODEL, GatewayError.echoed(model));
    }

    /** A bounded span name: the path template, never a caller-chosen segment. */
    static String route(String path) {
        if (path.equals("/v1/models") || ApiSurfaces.PATHS.contains(path)) {
            return path;
        }
        return path.startsWith("/v1/models/") ? "/v1/models/{model}" : path.startsWith("/v1/responses/") ? "/v1/responses/{id}" : "/v1/*";
    }
}
