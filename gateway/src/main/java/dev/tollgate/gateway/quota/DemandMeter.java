package dev.tollgate.gateway.quota;

/**
 * How much one subject asked of this replica lately: requests and the tokens they reserved, admitted
 * or not, in one-second slots over the last {@link #WINDOW_SECONDS} seconds. A replica's share of a
 * fleet-wide limit follows its part of this demand (ADR 0020). Not thread-safe: {@link RateLimits}
 * holds the subject's lock.
 */
final class DemandMeter {
    static final int WINDOW_SECONDS = 10;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long[] requests = new long[WINDOW_SECONDS + 1];
    private final long[] tokens = new long[WINDOW_SECONDS + 1];
    private final long startedAt;
    /** The second (since {@link #startedAt}) the newest slot holds. */
    private long second;

    DemandMeter(long nowNanos) {
        this.startedAt = nowNanos;
    }

    void record(long reservedTokens, long nowNanos) {
        advance(nowNanos);
        int slot = (int) (second % requests.length);
        requests[slot]++;
        tokens[slot] += reservedTokens;
    }

    /** Requests per minute over the window. */
    long requestsPerMinute(long nowNanos) {
        return perMinute(requests, nowNanos);
    }

    /** Reserved tokens per minute over the window. */
    long tokensPerMinute(long nowNanos) {
        return perMinute(tokens, nowNanos);
    }

    /** True when nothing was asked during the window. */
    boolean idle(long nowNanos) {
        return requestsPerMinute(nowNanos) == 0;
    }

    private long perMinute(long[] slots, long nowNanos) {
        advance(nowNanos);
        long sum = 0;
        for (long s : slots) {
            sum += s;
        }
        // The newest slot is partly over: the window is WINDOW_SECONDS whole seconds plus that part. A young
        // meter divides by the whole window too: its first request must not read as a burst of sixty a minute.
        double seconds = WINDOW_SECONDS + fraction(nowNanos - startedAt);
        return Math.round(sum * 60.0 / seconds);
    }

    private static double fraction(long elapsed) {
        return (double) (elapsed % NANOS_PER_SECOND) / NANOS_PER_SECOND;
    }

    private void advance(long nowNanos) {
        long now = Math.max(0, (nowNanos - startedAt) / NANOS_PER_SECOND);
        if (now <= second) {
            return;
        }
        long clear = Math.min(requests.length, now - second);
        for (long s = 1; s <= clear; s++) {
            int slot = (int) ((second + s) % requests.length);
            requests[slot] = 0;
            tokens[slot] = 0;
        }
        second = now;
    }
}
