package dev.tollgate.schemas.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.state.StateRecord;

import java.io.IOException;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * JSON encoding of events and state records, the same in every module. Readers tolerate unknown
 * fields (a newer producer may add optional ones); a missing required field fails with its name.
 */
public final class EventCodec {
    private static final ObjectMapper MAPPER = newMapper();

    private EventCodec() {}

    /** A mapper configured as the codec's: ISO-8601 instants, unknown fields ignored. */
    public static ObjectMapper newMapper() {
        return JsonMapper.builder()
                .addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .build();
    }

    /** The shared, thread-safe mapper. Do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** The event as CloudEvents JSON (structured mode) in UTF-8. */
    public static byte[] encode(CloudEvent<?> event) {
        return write(event);
    }

    /** A state record as JSON in UTF-8. */
    public static byte[] encodeState(StateRecord state) {
        return write(state);
    }

    /** Parses a CloudEvents JSON event of a known type. */
    public static CloudEvent<EventData> decode(byte[] json) {
        JsonNode root = readTree(json);
        String type = text(root, "type");
        if (type == null) {
            throw new EventFormatException("missing required field 'type'", null);
        }
        if (!EventType.isKnown(type)) {
            throw new EventFormatException("unknown event type '" + type + "'", null);
        }
        EventType eventType = EventType.fromTypeName(type);
        JsonNode dataNode = root.get("data");
        if (dataNode == null || dataNode.isNull()) {
            throw new EventFormatException("event of type " + type + ": missing required field 'data'", null);
        }
        EventData data = convert(dataNode, eventType.dataClass(), "event of type " + type + ": data: ");
        try {
            return new CloudEvent<>(text(root, "id"), text(root, "source"), text(root, "specversion"), type,
                    instant(root, "time"), text(root, "subject"), text(root, "datacontenttype"),
                    text(root, "tenantid"), text(root, "traceparent"), data);
        } catch (IllegalArgumentException e) {
            throw new EventFormatException("event of type " + type + ": " + e.getMessage(), e);
        }
    }

    /** Parses a state record of the given class. */
    public static <S extends StateRecord> S decodeState(byte[] json, Class<S> type) {
        return convert(readTree(json), type, type.getSimpleName() + ": ");
    }

    /** Parses a JSON object into {@code type} (an event's data, a state record), failing as the other decoders do. */
    public static <T> T decodeObject(byte[] json, Class<T> type) {
        return convert(readTree(json), type, type.getSimpleName() + ": ");
    }

    private static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    private static JsonNode readTree(byte[] json) {
        try {
            JsonNode root = MAPPER.readTree(json);
            if (root == null || !root.isObject()) {
                throw new EventFormatException("not a JSON object", null);
            }
            return root;
        } catch (IOException e) {
            throw new EventFormatException("not valid JSON: " + getOriginalMessage(e), e);
        }
    }

    private static <T> T convert(JsonNode node, Class<T> type, String context) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (JsonMappingException e) {
            throw new EventFormatException(context + describe(e), e);
        } catch (JsonProcessingException e) {
            throw new EventFormatException(context + e.getOriginalMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new EventFormatException(context + e.getMessage(), e);
        }
    }

    /** The root cause's message (our records name the field), prefixed with the path to the nested record. */
    private static String describe(JsonMappingException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String path = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
        String message = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
        return path.isEmpty() ? message : "at '" + path + "': " + message;
    }

    private static String text(JsonNode root, String field) {
        JsonNode node = root.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }

    private static Instant instant(JsonNode root, String field) {
        String value = text(root, field);
        try {
            return value == null ? null : Instant.parse(value);
        } catch (RuntimeException e) {
            throw new EventFormatException("field '" + field + "' is not an RFC 3339 timestamp: " + value, e);
        }
    }

    private static String getOriginalMessage(IOException e) {
        return e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
    }
}
