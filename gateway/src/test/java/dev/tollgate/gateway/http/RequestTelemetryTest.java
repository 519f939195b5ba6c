package dev.tollgate.gateway.http;

import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What of a caller's trace headers travels on to the model server. */
class RequestTelemetryTest {
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void theCallersTraceContinuesButItsTracestateAndBaggageStayAtTheGateway() {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("traceparent", TRACEPARENT)
                .add("tracestate", "vendor=internal-secret").add("baggage", "user=alice,tenant=other");

        Context parent = RequestTelemetry.callerContext(headers);
        assertThat(Span.fromContext(parent).getSpanContext().getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");

        // What the gateway's propagators (trace context and baggage) would send upstream from this context.
        Map<String, String> upstream = new HashMap<>();
        TextMapPropagator.composite(W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())
                .inject(parent, upstream, Map::put);
        assertThat(upstream.get("traceparent")).contains("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(upstream).doesNotContainKeys("tracestate", "baggage");
    }

    @Test
    void noOrAnInvalidTraceparentStartsANewTrace() {
        assertThat(Span.fromContext(RequestTelemetry.callerContext(MultiMap.caseInsensitiveMultiMap())).getSpanContext().isValid()).isFalse();
        assertThat(Span.fromContext(RequestTelemetry.callerContext(MultiMap.caseInsensitiveMultiMap().add("traceparent", "garbage")))
                .getSpanContext().isValid()).isFalse();
    }
}
