package dev.tollgate.gateway.metering;

import dev.tollgate.schemas.usage.TokenUsage;

import java.util.Optional;

/**
 * Meters one streamed answer as its SSE events pass, whatever API it speaks: the content events
 * delivered (the gateway's count of completion tokens while the stream runs), the model server's own
 * final counts once they passed, and whether the stream ended as its API says a whole answer ends.
 * One meter per stream, on its event loop; each API surface makes its own (ADR 0029).
 */
public interface SseMeter {
    /** Accepts the data of one SSE event, {@code data[offset, offset + length)}, valid only during the call. */
    void onData(byte[] data, int offset, int length);

    /** Events that carried completion output so far: answer content, tool calls or reasoning. */
    long contentChunks();

    /** Of {@link #contentChunks}, the events that carried reasoning only (where the API streams it apart; ADR 0030). */
    default long reasoningChunks() {
        return 0;
    }

    /** The model server's final counts, once the event carrying them has passed. */
    Optional<TokenUsage> upstreamUsage();

    /** True once the event that ends a whole answer has passed ({@code [DONE]}, {@code response.completed}, {@code message_stop}). */
    boolean done();

    /** True if the last event was a usage-only chunk the client did not ask for, to be left out (chat and text completions only). */
    default boolean sawUsageOnlyChunk() {
        return false;
    }

    /** Events read so far (the Responses API numbers its events; a final error event takes the next number). */
    long events();
}
