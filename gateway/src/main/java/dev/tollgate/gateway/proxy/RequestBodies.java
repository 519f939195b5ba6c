package dev.tollgate.gateway.proxy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.Map;

/**
 * Parses request bodies with limits tighter than Jackson's defaults: at most 64 levels of nesting and
 * 1 MiB per string, so that a hostile body costs bounded CPU and memory before it is refused.
 */
final class RequestBodies {
    static final int MAX_NESTING_DEPTH = 64;
    static final int MAX_STRING_LENGTH = 1024 * 1024;

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH)
                    .maxStringLength(MAX_STRING_LENGTH).build())
            .build());

    private RequestBodies() {}

    /** A body that is not a JSON object within the limits; the message is safe to show. */
    static final class InvalidBody extends Exception {
        InvalidBody(String message) {
            super(message);
        }
    }

    @SuppressWarnings("unchecked")
    static JsonObject parse(Buffer body) throws InvalidBody {
        if (body == null || body.length() == 0) {
            throw new InvalidBody("The request body is empty; send a JSON object.");
        }
        try {
            Object value = MAPPER.readValue(body.getBytes(), Object.class);
            if (!(value instanceof Map<?, ?> map)) {
                throw new InvalidBody("The request body is not a JSON object.");
            }
            return new JsonObject((Map<String, Object>) map);
        } catch (StreamConstraintsException e) {
            throw new InvalidBody("The request body is nested deeper than " + MAX_NESTING_DEPTH
                    + " levels or holds a string longer than " + MAX_STRING_LENGTH + " characters.");
        } catch (IOException e) {
            throw new InvalidBody("The request body is not valid JSON.");
        }
    }
}
