package dev.tollgate.gateway.proxy;

import java.util.concurrent.TimeUnit;

/**
 * How often a stream's progress is told as a {@code usage.tokens.streamed} event: when
 * {@code intervalMs} has passed since the last one or {@code tokens} more have streamed, whichever
 * comes first. The events keep the fleet's view of a long stream current (live usage, other replicas'
 * budgets); billing never needs them (the terminal event carries the whole count). The default, once a
 * second or every 256 tokens, sends one event per second per stream at vLLM's pace instead of four
 * (issue #17); {@code TOLLGATE_STREAM_PROGRESS_MS} and {@code TOLLGATE_STREAM_PROGRESS_TOKENS} set it.
 */
public record StreamProgress(long intervalMs, long tokens) {
    public static final StreamProgress DEFAULT = new StreamProgress(1_000, 256);

    public StreamProgress {
        if (intervalMs < 1 || tokens < 1) {
            throw new IllegalArgumentException("stream progress needs an interval and a token count of at least 1, not "
                    + intervalMs + " ms / " + tokens + " tokens");
        }
    }

    long intervalNanos() {
        return TimeUnit.MILLISECONDS.toNanos(intervalMs);
    }
}
