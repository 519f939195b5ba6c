package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.schemas.json.EventCodec;

import java.io.IOException;

/**
 * Reading the answers and stream events of the APIs whose meters read a tree per event (the Responses
 * and Messages APIs; ADR 0029): their events are named by a {@code type} field and few carry counts.
 */
final class JsonEvents {
    private static final ObjectMapper MAPPER = EventCodec.mapper();

    private JsonEvents() {}

    /** The JSON value in {@code data[offset, offset + length)}, or null when it is not JSON. */
    static JsonNode parse(byte[] data, int offset, int length) {
        try {
            return MAPPER.readTree(data, offset, length);
        } catch (IOException e) {
            return null;
        }
    }

    /** The JSON value of {@code text}, or null when it is not JSON. */
    static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A count as usage objects give it: absent or null is 0; anything but a non-negative integer that fits a
     * long is -1, which makes the whole usage unbelievable (the gateway then meters with its own figures).
     */
    static long count(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return 0;
        }
        return node.isIntegralNumber() && node.canConvertToLong() && node.asLong() >= 0 ? node.asLong() : -1;
    }
}
