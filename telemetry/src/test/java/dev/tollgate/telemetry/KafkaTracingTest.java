package dev.tollgate.telemetry;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaTracingTest {
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create())).build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();

    @Test
    void headersCarryTheContextAcrossARecord() {
        Span span = sdk.getTracer("test").spanBuilder("send").startSpan();
        var headers = new RecordHeaders();
        headers.add(Telemetry.TRACEPARENT, "00-00000000000000000000000000000001-0000000000000001-01".getBytes());
        KafkaTracing.inject(sdk, Context.root().with(span), headers);
        assertThat(headers.headers(Telemetry.TRACEPARENT)).as("replaced, not appended").hasSize(1);

        SpanContext received = Span.fromContext(KafkaTracing.extract(sdk, headers)).getSpanContext();
        assertThat(received.getTraceId()).isEqualTo(span.getSpanContext().getTraceId());
        assertThat(received.getSpanId()).isEqualTo(span.getSpanContext().getSpanId());
        assertThat(received.isRemote()).isTrue();
        span.end();
    }

    @Test
    void traceparentRoundTripsThroughTheCloudEventsExtensionValue() {
        Span span = sdk.getTracer("test").spanBuilder("create").startSpan();
        String traceparent = Telemetry.traceparent(span.getSpanContext());
        assertThat(traceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
        SpanContext parsed = Span.fromContext(Telemetry.fromTraceparent(sdk, traceparent)).getSpanContext();
        assertThat(parsed.getTraceId()).isEqualTo(span.getSpanContext().getTraceId());
        assertThat(parsed.getSpanId()).isEqualTo(span.getSpanContext().getSpanId());
        span.end();
    }

    @Test
    void missingOrMalformedContextGivesARootContext() {
        assertThat(Span.fromContext(KafkaTracing.extract(sdk, new RecordHeaders())).getSpanContext().isValid()).isFalse();
        assertThat(Span.fromContext(Telemetry.fromTraceparent(sdk, "00-zz-yy-01")).getSpanContext().isValid()).isFalse();
        assertThat(Span.fromContext(Telemetry.fromTraceparent(sdk, null)).getSpanContext().isValid()).isFalse();
        assertThat(Telemetry.traceparent(SpanContext.getInvalid())).isNull();
    }

    @Test
    void tracesAreNotExportedUnlessAnEndpointIsConfigured() {
        try (OpenTelemetrySdk started = Telemetry.start("tollgate-test")) {
            Span span = started.getTracer("test").spanBuilder("x").startSpan();
            assertThat(span.getSpanContext().isValid()).as("spans are still made, for trace ids in logs").isTrue();
            span.end();
        }
    }
}
