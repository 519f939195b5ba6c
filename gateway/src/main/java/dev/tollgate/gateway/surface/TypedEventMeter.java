package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.gateway.metering.SseMeter;

/**
 * A meter for streams whose events are JSON objects named by a {@code type} field (the Responses and
 * Messages APIs): reads each event as a tree and hands it on with its type; counts events, the content
 * events its subclass reports and whether the end event passed. Data that is not a JSON object passes
 * unmetered.
 */
abstract class TypedEventMeter implements SseMeter {
    private long events;
    private long contentEvents;
    private boolean done;

    @Override
    public final void onData(byte[] data, int offset, int length) {
        events++;
        JsonNode event = JsonEvents.parse(data, offset, length);
        if (event != null && event.isObject()) {
            onEvent(event.path("type").asText(""), event);
        }
    }

    /** One event of the stream. */
    abstract void onEvent(String type, JsonNode event);

    /** The current event carried content: one token delivered. */
    final void content() {
        contentEvents++;
    }

    /** The current event ends a whole answer. */
    final void ended() {
        done = true;
    }

    @Override
    public final long contentChunks() {
        return contentEvents;
    }

    @Override
    public final boolean done() {
        return done;
    }

    @Override
    public final long events() {
        return events;
    }
}
