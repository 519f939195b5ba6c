package dev.tollgate.gateway.metering;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.core.util.JsonParserDelegate;

import java.io.IOException;
import java.io.OutputStream;

/**
 * One JSON parser for all the chunks of a stream: Jackson's non-blocking parser, fed each SSE event's
 * data whole, reads the event's object as the next root-level value. A parser per chunk cost its object,
 * its context and its symbol table on every token; this one costs them once per stream (and once per
 * {@link #EVENTS_PER_PARSER} events, so that a stream of ever new field names cannot grow its symbol
 * table without bound).
 *
 * <p>It answers only what it reads whole and alone: an event that ends inside its object (the parser
 * would wait for more), that holds more than whitespace after it, or that the parser refuses, makes
 * {@link #read} answer false, after which the parser is spent and the caller decides with a parser of the
 * event's own. Not thread-safe: one per stream, on its event loop.
 */
final class StreamParser implements AutoCloseable {
    /** Events one parser reads before a fresh one takes over. */
    static final int EVENTS_PER_PARSER = 1024;
    private static final OutputStream NOWHERE = OutputStream.nullOutputStream();

    private final JsonFactory factory;
    private JsonParser async;
    private ByteArrayFeeder feeder;
    private WholeEvent parser;
    private int events;

    StreamParser(JsonFactory factory) {
        this.factory = factory;
    }

    /** True if the first byte that is not JSON whitespace opens an object: the only events this parser takes. */
    static boolean startsWithObject(byte[] data, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte b = data[i];
            if (!whitespace(b)) {
                return b == '{';
            }
        }
        return false;
    }

    /**
     * Reads the object in {@code data[offset, offset + length)} into {@code chunk}; true if it read it
     * whole and nothing but whitespace follows, false if the caller must decide (this parser is then spent).
     */
    boolean read(byte[] data, int offset, int length, StreamMeter.Chunk chunk) {
        try {
            if (async == null || events == EVENTS_PER_PARSER) {
                renew();
            }
            events++;
            feeder.feedInput(data, offset, offset + length);
            if (chunk.read(parser) == null || !parser.getParsingContext().inRoot()) {
                return false;
            }
            int rest = async.releaseBuffered(NOWHERE); // what is left of this event after its object
            for (int i = offset + length - rest; i < offset + length; i++) {
                if (!whitespace(data[i])) {
                    return false; // the tree ignored anything after the first value; this parser would read it as the next
                }
            }
            return rest == 0 || async.nextToken() == JsonToken.NOT_AVAILABLE; // consumes the whitespace, waits for the next event
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void renew() throws IOException {
        close();
        async = factory.createNonBlockingByteArrayParser();
        feeder = (ByteArrayFeeder) async.getNonBlockingInputFeeder();
        parser = new WholeEvent(async);
        events = 0;
    }

    @Override
    public void close() {
        if (async != null) {
            try {
                async.close();
            } catch (IOException e) {
                // a byte-array parser holds no resource that can fail to close
            }
            async = null;
        }
    }

    private static boolean whitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /**
     * The non-blocking parser as a blocking one over one event: running out of the event's bytes is an error, not
     * a wait ({@code skipChildren} goes to the non-blocking parser, which refuses to run out of bytes by itself).
     */
    private static final class WholeEvent extends JsonParserDelegate {
        WholeEvent(JsonParser async) {
            super(async);
        }

        @Override
        public JsonToken nextToken() throws IOException {
            JsonToken token = delegate.nextToken();
            if (token == JsonToken.NOT_AVAILABLE) {
                throw new IncompleteEvent();
            }
            return token;
        }
    }

    /** The event ended inside its object. */
    private static final class IncompleteEvent extends IOException {
        IncompleteEvent() {
            super("the event ended inside its JSON value");
        }
    }
}
