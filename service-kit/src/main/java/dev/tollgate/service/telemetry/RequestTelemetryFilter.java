package dev.tollgate.service.telemetry;

import dev.tollgate.telemetry.LogFields;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.MDC;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerMapping;

import java.io.IOException;
import java.util.Collections;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * One server span per HTTP request (a child of the caller's {@code traceparent}), named after the
 * matched route template, never the raw path; the request id ({@code X-Request-Id} if the caller
 * sent a sane one, else a new one, echoed on the answer); trace, span and request ids in the MDC
 * for every log line the request causes.
 */
public final class RequestTelemetryFilter extends OncePerRequestFilter {
    /** Span attribute and MDC key of the authenticated tenant, set by the security chain. */
    public static final String TENANT_ATTRIBUTE = "tollgate.tenant.id";
    private static final Pattern SANE_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private static final TextMapGetter<HttpServletRequest> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpServletRequest request) {
            return Collections.list(request.getHeaderNames());
        }

        @Override
        public String get(HttpServletRequest request, String key) {
            return request == null ? null : request.getHeader(key);
        }
    };

    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;

    public RequestTelemetryFilter(OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("dev.tollgate.service");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Context parent = openTelemetry.getPropagators().getTextMapPropagator().extract(Context.root(), request, HEADERS);
        Span span = tracer.spanBuilder(request.getMethod()).setSpanKind(SpanKind.SERVER).setParent(parent)
                .setAttribute("http.request.method", request.getMethod())
                .setAttribute("url.path", request.getRequestURI())
                .startSpan();
        String presented = request.getHeader("x-request-id");
        String requestId = presented != null && SANE_REQUEST_ID.matcher(presented).matches()
                ? presented : "req_" + UUID.randomUUID().toString().replace("-", "");
        response.setHeader("X-Request-Id", requestId);
        span.setAttribute("tollgate.request.id", requestId);
        MDC.put(LogFields.TRACE_ID, span.getSpanContext().getTraceId());
        MDC.put(LogFields.SPAN_ID, span.getSpanContext().getSpanId());
        MDC.put(LogFields.REQUEST_ID, requestId);
        try (Scope ignored = span.makeCurrent()) {
            chain.doFilter(request, response);
        } catch (IOException | ServletException | RuntimeException e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR);
            throw e;
        } finally {
            Object route = request.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
            if (route != null) {
                span.updateName(request.getMethod() + " " + route);
                span.setAttribute("http.route", route.toString());
            }
            span.setAttribute("http.response.status_code", response.getStatus());
            if (response.getStatus() >= 500) {
                span.setStatus(StatusCode.ERROR);
            }
            span.end();
            MDC.remove(LogFields.TRACE_ID);
            MDC.remove(LogFields.SPAN_ID);
            MDC.remove(LogFields.REQUEST_ID);
            MDC.remove(LogFields.TENANT_ID);
            MDC.remove(LogFields.SUBJECT);
        }
    }
}
