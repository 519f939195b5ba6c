package dev.tollgate.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Forwards a streamed (SSE) answer to the client as the model server's own bytes: what one upstream
 * read completes goes out in one write, unchanged, with no string built and no event re-encoded
 * (issue #17). Only whole events are written (an event's start waits, as it did before, until the
 * blank line that ends it), so an event can still be left out: the usage-only chunk the client did
 * not ask for ({@link #drop}). Positions are offsets in the upstream stream, as {@code SseScanner}
 * reports them. Not thread-safe: one relay per stream, on its event loop.
 */
final class SseRelay {
    private final HttpServerResponse response;
    /** Received bytes not yet written or dropped; starts at stream position {@link #unsentStart}. */
    private Buffer unsent;
    private long unsentStart;
    private long received;

    SseRelay(HttpServerResponse response) {
        this.response = response;
    }

    /** The next upstream read; kept until {@link #flush} says how much of it is whole events. */
    void received(Buffer buffer) {
        if (unsent == null || unsent.length() == 0) {
            unsent = buffer;
        } else {
            unsent = Buffer.buffer(unsent.length() + buffer.length()).appendBuffer(unsent).appendBuffer(buffer);
        }
        received += buffer.length();
    }

    /** Writes every received byte before stream position {@code upTo}, in one write. */
    void flush(long upTo) {
        int count = (int) (Math.min(upTo, received) - unsentStart);
        if (count <= 0) {
            return;
        }
        if (count == unsent.length()) {
            response.write(unsent);
            unsent = null;
        } else {
            response.write(unsent.slice(0, count));
            unsent = unsent.slice(count, unsent.length());
        }
        unsentStart += count;
    }

    /** Leaves out the stream's bytes from {@code start} to {@code end}: writes what precedes them, discards them. */
    void drop(long start, long end) {
        flush(start);
        int count = (int) (Math.min(end, received) - unsentStart);
        if (count > 0) {
            unsent = unsent.slice(count, unsent.length());
            unsentStart += count;
        }
    }

    /**
     * The bytes of an upstream read as an array the scanner can read in place: the buffer's own heap
     * array when it has one (no copy), else a copy.
     */
    static Bytes bytesOf(Buffer buffer) {
        if (buffer instanceof BufferInternal internal) {
            ByteBuf buf = internal.getByteBuf();
            if (buf.hasArray()) {
                return new Bytes(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
            }
        }
        byte[] copy = buffer.getBytes();
        return new Bytes(copy, 0, copy.length);
    }

    /** {@code array[offset, offset + length)}. */
    record Bytes(byte[] array, int offset, int length) {}
}
