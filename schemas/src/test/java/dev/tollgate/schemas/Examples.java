package dev.tollgate.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The committed v1 examples under {@code src/test/resources/examples/v1}. They are golden files:
 * once committed they are never edited, because events written in that shape must parse forever.
 */
final class Examples {
    /** State examples: file name (without .json) to record class and schema. */
    static final Map<String, Class<? extends StateRecord>> STATES = Map.of(
            "key-state", KeyState.class,
            "tenant-state", TenantState.class,
            "quota-state", QuotaState.class);

    private Examples() {}

    static Stream<EventType> eventTypes() {
        return Arrays.stream(EventType.values());
    }

    static byte[] eventBytes(EventType type) {
        String name = type.typeName().substring(EventType.TYPE_PREFIX.length(), type.typeName().length() - ".v1".length());
        return read("/examples/v1/events/" + name + ".json");
    }

    static byte[] stateBytes(String name) {
        return read("/examples/v1/state/" + name + ".json");
    }

    static ObjectNode tree(byte[] json) {
        try {
            return (ObjectNode) EventCodec.mapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(JsonNode node) {
        try {
            return EventCodec.mapper().writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] read(String resource) {
        try (InputStream in = Examples.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing example " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
