package dev.tollgate.gateway.metering;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Incremental Server-Sent Events framing (the WHATWG event-stream format) over bytes that arrive in
 * arbitrary chunks. Emits the {@code data} of each complete event (multi-line data joined by
 * {@code \n}); ignores comments, {@code event:}, {@code id:} and {@code retry:} fields. Accepts LF,
 * CRLF and CR line endings. Not thread-safe: one scanner per stream.
 *
 * <p>Bounded: an event longer than {@code maxEventBytes} is reported as an error instead of growing
 * a buffer without limit.
 */
public final class SseScanner {
    private static final byte[] DATA = "data".getBytes(StandardCharsets.US_ASCII);

    private final int maxEventBytes;
    private final Consumer<String> onData;
    /** The current line's bytes (no terminator); grown as needed, never shrunk. */
    private byte[] line = new byte[256];
    private int lineLength;
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean lastWasCr;
    private int eventBytes;

    /** Thrown when one event exceeds the configured size. */
    public static final class EventTooLargeException extends RuntimeException {
        EventTooLargeException(int limit) {
            super("SSE event larger than " + limit + " bytes");
        }
    }

    public SseScanner(int maxEventBytes, Consumer<String> onData) {
        if (maxEventBytes < 1) {
            throw new IllegalArgumentException("maxEventBytes must be >= 1");
        }
        this.maxEventBytes = maxEventBytes;
        this.onData = onData;
    }

    /**
     * Feeds the next chunk of the stream; calls back once per completed event. Copies each line's
     * bytes once, a run at a time (this runs for every read of every stream, on an event loop).
     */
    public void feed(byte[] bytes, int offset, int length) {
        int end = offset + length;
        int i = offset;
        while (i < end) {
            if (lastWasCr && bytes[i] == '\n') { // the LF of a CRLF
                lastWasCr = false;
                i++;
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
                lastWasCr = bytes[i] == '\r';
                i++;
                endLine();
            }
        }
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
        if (hasData) {
            data.append('\n');
        }
        data.append(new String(line, valueStart, Math.max(0, length - valueStart), StandardCharsets.UTF_8));
        hasData = true;
    }

    private void dispatch() {
        eventBytes = 0;
        if (!hasData) {
            return;
        }
        String event = data.toString();
        data.setLength(0);
        hasData = false;
        onData.accept(event);
    }
}
