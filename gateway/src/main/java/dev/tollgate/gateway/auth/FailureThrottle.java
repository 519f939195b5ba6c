package dev.tollgate.gateway.auth;

import dev.tollgate.gateway.quota.TokenBucket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Failures counted per client address ({@link ClientAddresses}) and per key id, each in a bucket of
 * {@code n} failures per minute; once a bucket is empty, that address or key id is answered 429
 * until the bucket refills. Two instances: {@link #authFailures()} and {@link #refusals()}.
 *
 * <p><b>Authentication failures</b> slow down API-key guessing: a failure from an address or on a
 * key id whose bucket is empty is answered 429 instead of 401. Keys are verified first (one SHA-256), so a valid key is
 * never refused because of anyone else's failures: not a stranger failing on its key id (which is
 * not secret), not other clients of its address, not the owner's own retries before the key reached
 * the gateway (a key id the gateway does not know yet counts against the address only). Guessing a
 * 256-bit secret is hopeless anyway; this keeps scanners and broken clients from costing log volume
 * and tells them to back off.
 *
 * <p><b>Refusals</b> (issue #19 item 4): an authenticated request the gateway refuses as invalid
 * (400, 403, 404, 408, 413, 422: unknown model, bad JSON, a missing scope, ...) did no work upstream
 * and costs no quota, but costs the gateway; once a key's or an address's refusal bucket is empty its
 * requests are answered 429 before their bodies are read, whatever they hold.
 *
 * <p>Memory is bounded: beyond {@value #MAX_TRACKED} tracked addresses or key ids, buckets that have
 * refilled are forgotten first, then all of them (throttling fails open, never the service).
 */
public final class FailureThrottle {
    static final int MAX_TRACKED = 100_000;

    private final long addressFailuresPerMinute;
    private final long keyFailuresPerMinute;
    private final LongSupplier nanoClock;
    private final Map<String, TokenBucket> byAddress = new ConcurrentHashMap<>();
    private final Map<String, TokenBucket> byKey = new ConcurrentHashMap<>();

    public FailureThrottle(long addressFailuresPerMinute, long keyFailuresPerMinute, LongSupplier nanoClock) {
        this.addressFailuresPerMinute = addressFailuresPerMinute;
        this.keyFailuresPerMinute = keyFailuresPerMinute;
        this.nanoClock = nanoClock;
    }

    /** Authentication failures: 30 a minute per address, 10 per key id. */
    public static FailureThrottle authFailures() {
        return new FailureThrottle(30, 10, System::nanoTime);
    }

    /** Refused requests: 300 a minute per address, 60 per key. */
    public static FailureThrottle refusals() {
        return new FailureThrottle(300, 60, System::nanoTime);
    }

    /** Seconds this caller must wait before trying again (0: go ahead and verify). */
    public long retryAfterSeconds(String address, String keyId) {
        long now = nanoClock.getAsLong();
        return Math.max(wait(byAddress.get(address), now), keyId == null ? 0 : wait(byKey.get(keyId), now));
    }

    /** Records one failed authentication by {@code address} (and on {@code keyId}, if the key named one). */
    public void failed(String address, String keyId) {
        long now = nanoClock.getAsLong();
        take(byAddress, address, addressFailuresPerMinute, now);
        if (keyId != null) {
            take(byKey, keyId, keyFailuresPerMinute, now);
        }
    }

    private static long wait(TokenBucket bucket, long now) {
        if (bucket == null) {
            return 0;
        }
        synchronized (bucket) {
            return bucket.remaining(now) >= 1 ? 0 : bucket.secondsUntil(1, now);
        }
    }

    private static void take(Map<String, TokenBucket> buckets, String subject, long perMinute, long now) {
        if (subject == null) {
            return;
        }
        if (buckets.size() >= MAX_TRACKED && !buckets.containsKey(subject)) {
            buckets.values().removeIf(bucket -> {
                synchronized (bucket) {
                    return bucket.remaining(now) >= bucket.capacity();
                }
            });
            if (buckets.size() >= MAX_TRACKED) {
                buckets.clear();
            }
        }
        TokenBucket bucket = buckets.computeIfAbsent(subject, s -> new TokenBucket(perMinute, now));
        synchronized (bucket) {
            bucket.tryTake(1, now);
        }
    }

    int tracked() {
        return byAddress.size() + byKey.size();
    }
}
