package dev.tollgate.gateway.metering;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Incremental Server-Sent Events framing (the WHATWG event-stream format) over bytes that arrive in
 * arbitrary chunks. Reports the {@code data} of each complete event (multi-line data joined by
 * {@code \n}) as bytes, with where the event lies in the stream, so that a proxy can forward the
 * upstream's bytes as they are and leave out an event; ignores comments, {@code event:}, {@code id:}
 * and {@code retry:} fields. Accepts LF, CRLF and CR line endings. Allocates nothing per event once
 * its buffers have grown to the largest event. Not thread-safe: one scanner per stream.
 *
 * <p>Bounded: an event longer than {@code maxEventBytes} is reported as an error instead of growing
 * a buffer without limit.
 */
public final class SseScanner {
    private static final byte[] DATA = "data".getBytes(StandardCharsets.US_ASCII);

    private final int maxEventBytes;
    private final Listener listener;
    /** The current line's bytes (no terminator); grown as needed, never shrunk. */
    private byte[] line = new byte[256];
    private int lineLength;
    /** The current event's data; grown as needed, never shrunk. */
    private byte[] data = new byte[256];
    private int dataLength;
    private boolean hasData;
    private boolean lastWasCr;
    private int eventBytes;
    /** Bytes of the stream consumed so far. */
    private long position;
    /** Where the last blank line ended (the end of the last event, or of a block of comments). */
    private long boundary;

    /** Receives each complete event. */
    @FunctionalInterface
    public interface Listener {
        /**
         * One event: its data in {@code data[offset, offset + length)} (valid only during the call), the
         * event's bytes in the stream from {@code start} (the previous boundary) to {@code end} (after
         * the blank line that ended it).
         */
        void onEvent(byte[] data, int offset, int length, long start, long end);
    }

    /** Thrown when one event exceeds the configured size. */
    public static final class EventTooLargeException extends RuntimeException {
        EventTooLargeException(int limit) {
            super("SSE event larger than " + limit + " bytes");
        }
    }

    public SseScanner(int maxEventBytes, Listener listener) {
        if (maxEventBytes < 1) {
            throw new IllegalArgumentException("maxEventBytes must be >= 1");
        }
        this.maxEventBytes = maxEventBytes;
        this.listener = listener;
    }

    /** A scanner that hands each event's data over as a string (tests and tools; the proxy reads bytes). */
    public SseScanner(int maxEventBytes, Consumer<String> onData) {
        this(maxEventBytes, (data, offset, length, start, end) -> onData.accept(new String(data, offset, length, StandardCharsets.UTF_8)));
    }

    /** Where the last blank line ended: every byte before it belongs to a complete event (or comment block). */
    public long boundary() {
        return boundary;
    }

    /** Bytes fed so far. */
    public long position() {
        return position;
    }

    /**
     * Feeds the next chunk of the stream; calls back once per completed event. Copies each line's
     * bytes once, a run at a time (this runs for every read of every stream, on an event loop).
     */
    public void feed(byte[] bytes, int offset, int length) {
        int end = offset + length;
        long base = position - offset;
        int i = offset;
        while (i < end) {
            if (lastWasCr && bytes[i] == '\n') { // the LF of a CRLF
                lastWasCr = false;
                i++;
                if (boundary == base + i - 1) {
                    // The LF of a blank line's CRLF that came in the next read: the event it ended was already
                    // reported as ending before it; the boundary moves past it.
                    boundary = base + i;
                }
                continue;
            }
            lastWasCr = false;
            int runStart = i;
            while (i < end && bytes[i] != '\n' && bytes[i] != '\r') {
                i++;
            }
            int run = i - runStart;
            if (run > 0) {
                eventBytes += run;
                if (eventBytes > maxEventBytes) {
                    throw new EventTooLargeException(maxEventBytes);
                }
                append(bytes, runStart, run);
            }
            if (i < end) {
                if (bytes[i] == '\r' && i + 1 < end && bytes[i + 1] == '\n') {
                    i += 2; // a whole CRLF: the event ends after it
                } else {
                    lastWasCr = bytes[i] == '\r';
                    i++;
                }
                position = base + i;
                endLine();
            }
        }
        position = base + end;
    }

    /** Feeds a whole array. */
    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    private void append(byte[] bytes, int from, int count) {
        if (lineLength + count > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + count));
        }
        System.arraycopy(bytes, from, line, lineLength, count);
        lineLength += count;
    }

    private void endLine() {
        if (lineLength == 0) {
            dispatch();
            return;
        }
        int length = lineLength;
        lineLength = 0;
        if (line[0] == ':') {
            return; // a comment
        }
        int colon = 0;
        while (colon < length && line[colon] != ':') {
            colon++;
        }
        if (colon != DATA.length || !Arrays.equals(line, 0, colon, DATA, 0, DATA.length)) {
            return; // event:, id:, retry: and unknown fields carry nothing to meter
        }
        int valueStart = colon + 1;
        if (valueStart < length && line[valueStart] == ' ') {
            valueStart++;
        }
        int count = Math.max(0, length - valueStart);
        if (dataLength + count + 1 > data.length) {
            data = Arrays.copyOf(data, Math.max(data.length * 2, dataLength + count + 1));
        }
        if (hasData) {
            data[dataLength++] = '\n';
        }
        System.arraycopy(line, valueStart, data, dataLength, count);
        dataLength += count;
        hasData = true;
    }

    private void dispatch() {
        eventBytes = 0;
        long start = boundary;
        boundary = position;
        if (!hasData) {
            return;
        }
        int length = dataLength;
        dataLength = 0;
        hasData = false;
        listener.onEvent(data, 0, length, start, position);
    }
}
