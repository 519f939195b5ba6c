package dev.tollgate.gateway.surface;

/**
 * Rewrites one streamed answer, event by event, from the API the model server speaks into the API the
 * client called (ADR 0029). Not thread-safe: one per stream, on its event loop.
 */
public interface StreamTranslator {
    /** The client's events (whole SSE events, possibly none) for one event of the server, {@code data[offset, offset + length)}. */
    String onData(byte[] data, int offset, int length);
}
