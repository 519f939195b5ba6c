package dev.tollgate.telemetry;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Trace context in Kafka record headers (W3C {@code traceparent}, {@code tracestate}), as the
 * OpenTelemetry messaging conventions and the CloudEvents Kafka binding carry it. Works with plain
 * consumer records and with Kafka Streams' {@code Record.headers()} alike.
 */
public final class KafkaTracing {
    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header header : headers) {
                keys.add(header.key());
            }
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            if (headers == null) {
                return null;
            }
            Header header = headers.lastHeader(key);
            return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
        }
    };

    private static final TextMapSetter<Headers> SETTER = (headers, key, value) -> {
        if (headers != null) {
            headers.remove(key);
            headers.add(key, value.getBytes(StandardCharsets.UTF_8));
        }
    };

    private KafkaTracing() {}

    /** The context the headers carry (the root context when they carry none). */
    public static Context extract(OpenTelemetry openTelemetry, Headers headers) {
        return openTelemetry.getPropagators().getTextMapPropagator().extract(Context.root(), headers, GETTER);
    }

    /** Writes {@code context} into {@code headers}, replacing any trace context they had. */
    public static void inject(OpenTelemetry openTelemetry, Context context, Headers headers) {
        openTelemetry.getPropagators().getTextMapPropagator().inject(context, headers, SETTER);
    }

    /** The bytes of a {@code traceparent} header for a record built by hand. */
    public static byte[] headerValue(String traceparent) {
        return traceparent.getBytes(StandardCharsets.UTF_8);
    }
}
