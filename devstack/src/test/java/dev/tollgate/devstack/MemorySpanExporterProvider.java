package dev.tollgate.devstack;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.util.Collection;

/**
 * {@code OTEL_TRACES_EXPORTER=tollgate-test-memory}: every service's SDK (configured exactly as in
 * production, through {@code Telemetry.start}) exports into one shared in-memory exporter, so a
 * test sees the spans of the gateway, the ledger and the billing service of one JVM together.
 */
public final class MemorySpanExporterProvider implements ConfigurableSpanExporterProvider {
    public static final String NAME = "tollgate-test-memory";
    public static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();

    @Override
    public SpanExporter createExporter(ConfigProperties config) {
        // One SDK shutting down must not stop the shared exporter for the others.
        return new SpanExporter() {
            @Override
            public CompletableResultCode export(Collection<SpanData> spans) {
                return SPANS.export(spans);
            }

            @Override
            public CompletableResultCode flush() {
                return CompletableResultCode.ofSuccess();
            }

            @Override
            public CompletableResultCode shutdown() {
                return CompletableResultCode.ofSuccess();
            }
        };
    }

    @Override
    public String getName() {
        return NAME;
    }
}
