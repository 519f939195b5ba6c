package dev.tollgate.gateway.metering;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
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
    private final int maxEventBytes;
    private final Consumer<String> onData;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
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

    /** Feeds the next chunk of the stream; calls back once per completed event. */
    public void feed(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte b = bytes[i];
            if (b == '\n' && lastWasCr) {
                lastWasCr = false;
                continue;
            }
            lastWasCr = b == '\r';
            if (b == '\n' || b == '\r') {
                endLine();
            } else {
                if (++eventBytes > maxEventBytes) {
                    throw new EventTooLargeException(maxEventBytes);
                }
                line.write(b);
            }
        }
    }

    /** Feeds a whole array. */
    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    private void endLine() {
        if (line.size() == 0) {
            dispatch();
            return;
        }
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.startsWith(":")) {
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        if (!field.equals("data")) {
            return;
        }
        String value = colon < 0 ? "" : text.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (hasData) {
            data.append('\n');
        }
        data.append(value);
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
