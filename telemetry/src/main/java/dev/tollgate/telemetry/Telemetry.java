package dev.tollgate.telemetry;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One OpenTelemetry SDK per service, configured by the standard {@code OTEL_*} environment variables
 * (or {@code otel.*} system properties), with Tollgate's defaults underneath (ADR 0012):
 * <ul>
 *   <li>{@code service.name} is the service's own name;</li>
 *   <li>spans are always made (trace ids reach the logs and the {@code traceparent} of upstream calls
 *       and events), but exported over OTLP only when {@code OTEL_EXPORTER_OTLP_ENDPOINT} or
 *       {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} is set, or {@code OTEL_TRACES_EXPORTER} says so;</li>
 *   <li>metrics and logs never go through OpenTelemetry: metrics are scraped from {@code /metrics}
 *       (Micrometer), logs are JSON on stdout.</li>
 * </ul>
 * An explicit variable always wins over a default. The caller closes the SDK on shutdown (flushing
 * the last spans).
 */
public final class Telemetry {
    /** The W3C trace-context header, also the CloudEvents distributed-tracing extension's name. */
    public static final String TRACEPARENT = "traceparent";

    private static final TextMapGetter<Map<String, String>> MAP_GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    /** Does nothing with a span, but its presence makes the SDK create real spans when nothing exports them. */
    private static final SpanProcessor KEEP_IDS = new SpanProcessor() {
        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {}

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {}

        @Override
        public boolean isEndRequired() {
            return false;
        }
    };

    private Telemetry() {}

    /** Starts the SDK for {@code serviceName} (e.g. {@code tollgate-gateway}). */
    public static OpenTelemetrySdk start(String serviceName) {
        Map<String, String> defaults = new HashMap<>();
        defaults.put("otel.service.name", serviceName);
        defaults.put("otel.traces.exporter", otlpConfigured() ? "otlp" : "none");
        defaults.put("otel.metrics.exporter", "none");
        defaults.put("otel.logs.exporter", "none");
        return AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> defaults)
                // Without any processor the SDK hands out invalid (propagation-only) spans; this one keeps real ids.
                .addTracerProviderCustomizer((builder, config) -> builder.addSpanProcessor(KEEP_IDS))
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
    }

    private static boolean otlpConfigured() {
        for (String name : List.of("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
            String env = System.getenv(name);
            String property = System.getProperty(name.toLowerCase(Locale.ROOT).replace('_', '.'));
            if ((env != null && !env.isBlank()) || (property != null && !property.isBlank())) {
                return true;
            }
        }
        return false;
    }

    /** The W3C {@code traceparent} of {@code span}, or null when it is not a valid (sampled or not) span. */
    public static String traceparent(SpanContext span) {
        if (span == null || !span.isValid()) {
            return null;
        }
        return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getTraceFlags().asHex();
    }

    /** The context a {@code traceparent} value names (the root context when it is null or malformed). */
    public static Context fromTraceparent(OpenTelemetry openTelemetry, String traceparent) {
        if (traceparent == null || traceparent.isBlank()) {
            return Context.root();
        }
        return openTelemetry.getPropagators().getTextMapPropagator()
                .extract(Context.root(), Map.of(TRACEPARENT, traceparent), MAP_GETTER);
    }
}
