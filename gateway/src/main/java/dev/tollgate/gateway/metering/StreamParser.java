package dev.tollgate.gateway.metering;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.core.util.JsonParserDelegate;
import dev.tollgate.schemas.json.EventCodec;

import java.io.IOException;
import java.io.OutputStream;

/**
 * One JSON parser for all the chunks a thread meters: Jackson's non-blocking parser, fed each SSE event's
 * data whole, reads the event's object as the next root-level value. A parser per chunk cost its object,
 * its context and its symbol table on every token. Between two events this parser holds nothing of
 * either (it waits at the root level for the next value), so the streams of an event loop share one
 * ({@link #ofThisThread}) and a stream holds none: 9,000 streams on a loop hold one parser, not 9,000.
 * It is renewed every {@link #EVENTS_PER_PARSER} events, so that ever new field names cannot grow its
 * symbol table without bound.
 *
 * <p>It answers only what it reads whole and alone: an event that ends inside its object (the parser
 * would wait for more), that holds more than whitespace after it, or that the parser refuses, makes
 * {@link #read} answer false, and the next event gets a new parser; the caller then decides with a
 * parser of the event's own. Not thread-safe: one per thread.
 */
final class StreamParser {
    /** Events one parser reads before a fresh one takes over. */
    static final int EVENTS_PER_PARSER = 1024;
    private static final OutputStream NOWHERE = OutputStream.nullOutputStream();

    private static final ThreadLocal<StreamParser> OF_THREAD = ThreadLocal.withInitial(StreamParser::new);
    private static final JsonFactory FACTORY = EventCodec.mapper().getFactory();

    private JsonParser async;
    private ByteArrayFeeder feeder;
    private WholeEvent parser;
    private int events;

    /** This thread's parser. */
    static StreamParser ofThisThread() {
        return OF_THREAD.get();
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
     * whole and nothing but whitespace follows, false if the caller must decide (the next event then gets
     * a new parser).
     */
    boolean read(byte[] data, int offset, int length, StreamMeter.Chunk chunk) {
        boolean whole = false;
        try {
            if (async == null || events == EVENTS_PER_PARSER) {
                renew();
            }
            events++;
            feeder.feedInput(data, offset, offset + length);
            whole = chunk.read(parser) != null && parser.getParsingContext().inRoot() && onlyWhitespaceLeft(data, offset + length);
            return whole;
        } catch (IOException | RuntimeException e) {
            return false;
        } finally {
            if (!whole) {
                discard(); // mid-value or past a refusal: no state for the next event
            }
        }
    }

    /** True if what the parser has not read of this event (before {@code end}) is whitespace, which it then reads. */
    private boolean onlyWhitespaceLeft(byte[] data, int end) throws IOException {
        int rest = async.releaseBuffered(NOWHERE);
        for (int i = end - rest; i < end; i++) {
            if (!whitespace(data[i])) {
                return false; // the tree ignored anything after the first value; this parser would read it as the next
            }
        }
        return rest == 0 || async.nextToken() == JsonToken.NOT_AVAILABLE; // consumes the whitespace, waits for the next event
    }

    private void renew() throws IOException {
        discard();
        async = FACTORY.createNonBlockingByteArrayParser();
        feeder = (ByteArrayFeeder) async.getNonBlockingInputFeeder();
        parser = new WholeEvent(async);
        events = 0;
    }

    private void discard() {
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
