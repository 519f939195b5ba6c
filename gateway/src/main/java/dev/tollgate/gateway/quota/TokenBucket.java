package dev.tollgate.gateway.quota;

/**
 * A token bucket refilled continuously at {@code capacity} per minute. Not thread-safe on its own:
 * its users ({@link RateLimits}, the authentication throttle) synchronize on it. Its capacity may
 * change while it runs (a replica's share of a fleet-wide limit follows the fleet, ADR 0020): a
 * smaller capacity clamps what is available, a larger one only refills faster, so resizing never
 * creates tokens.
 */
public final class TokenBucket {
    private static final long NANOS_PER_MINUTE = 60_000_000_000L;

    private long capacity;
    private double available;
    private long refilledAt;

    /** A full bucket. */
    public TokenBucket(long capacity, long nowNanos) {
        this(capacity, capacity, nowNanos);
    }

    /** A bucket holding {@code available} (at most {@code capacity}) at first. */
    public TokenBucket(long capacity, long available, long nowNanos) {
        this.capacity = capacity;
        this.available = Math.min(capacity, available);
        this.refilledAt = nowNanos;
    }

    public long capacity() {
        return capacity;
    }

    private void refill(long nowNanos) {
        long elapsed = nowNanos - refilledAt;
        if (elapsed > 0) {
            if (available < capacity) {
                available = Math.min(capacity, available + (double) capacity * elapsed / NANOS_PER_MINUTE);
            }
            refilledAt = nowNanos;
        }
    }

    /** Refills at the old rate up to now, then holds at most {@code newCapacity} and refills at that rate. */
    void resize(long newCapacity, long nowNanos) {
        refill(nowNanos);
        capacity = newCapacity;
        available = Math.min(available, newCapacity);
    }

    /** Takes {@code amount} if available. */
    public boolean tryTake(long amount, long nowNanos) {
        refill(nowNanos);
        if (available >= amount) {
            available -= amount;
            return true;
        }
        return false;
    }

    /** Gives back what a request reserved but did not use (never above capacity). */
    void giveBack(long amount, long nowNanos) {
        refill(nowNanos);
        available = Math.min(capacity, available + amount);
    }

    /** Takes more than was reserved (a request used more than estimated, or a peer borrowed); may go below zero. */
    void takeMore(long amount, long nowNanos) {
        refill(nowNanos);
        available -= amount;
    }

    public long remaining(long nowNanos) {
        refill(nowNanos);
        return Math.max(0, (long) Math.floor(available));
    }

    /** What is available, negative when the bucket is in debt. */
    long level(long nowNanos) {
        refill(nowNanos);
        return (long) Math.floor(available);
    }

    /** Seconds until {@code amount} is available (0 if it is). */
    public long secondsUntil(long amount, long nowNanos) {
        refill(nowNanos);
        if (available >= amount || capacity == 0) {
            return 0;
        }
        double missing = Math.min(amount, capacity) - available;
        return Math.max(1, (long) Math.ceil(missing * 60.0 / capacity));
    }
}
