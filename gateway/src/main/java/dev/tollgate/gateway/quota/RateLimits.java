package dev.tollgate.gateway.quota;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.schemas.ledger.Limits;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Requests per minute, tokens per minute and concurrent requests, per tenant and per key, enforced
 * from this gateway's own memory. With {@code replicas} gateways each enforces {@code 1/replicas}
 * of every limit (static shares; ADR for the fleet-wide scheme is the quota issue's). Tokens are
 * reserved at admission (prompt estimate + max_tokens) and settled with the real count at the end.
 */
public final class RateLimits {
    private final int replicas;
    private final LongSupplier clock;
    private final Map<String, Buckets> buckets = new ConcurrentHashMap<>();

    /** The limits of one subject (a tenant or a key) and their live state. */
    private static final class Buckets {
        final Limits limits;
        final TokenBucket requests;
        final TokenBucket tokens;
        int concurrent;

        Buckets(Limits limits, int replicas, long now) {
            this.limits = limits;
            this.requests = limits.requestsPerMinute() == null ? null : new TokenBucket(share(limits.requestsPerMinute(), replicas), now);
            this.tokens = limits.tokensPerMinute() == null ? null : new TokenBucket(share(limits.tokensPerMinute(), replicas), now);
        }

        /** This replica's share of {@code limit}: never 0 for a positive limit, and 0 for a limit of 0 (nothing is allowed). */
        static long share(long limit, int replicas) {
            return limit <= 0 ? 0 : Math.max(1, limit / replicas);
        }
    }

    /**
     * Why a request was refused, with what the 429 headers say. {@code retryAfterSeconds} is 0 for a
     * request that can never be admitted (it reserves more than the whole limit): no Retry-After then.
     */
    public record Refusal(String quotaKind, String message, long retryAfterSeconds, Headers headers) {
        public boolean retryable() {
            return retryAfterSeconds > 0;
        }
    }

    /** The x-ratelimit-* values of the most constrained subject. */
    public record Headers(Long limitRequests, Long remainingRequests, long resetRequestsSeconds,
                          Long limitTokens, Long remainingTokens, long resetTokensSeconds) {}

    /** An admitted request's hold on the limits; {@link #settle} exactly once. */
    public final class Admission {
        private final List<Buckets> held;
        private final long reservedTokens;
        private Headers headers;
        private boolean settled;

        private Admission(List<Buckets> held, long reservedTokens) {
            this.held = held;
            this.reservedTokens = reservedTokens;
        }

        public Headers headers() {
            return headers;
        }

        /** Releases the concurrency slot and corrects the token reservation to {@code usedTokens}. */
        public void settle(long usedTokens) {
            if (settled) {
                return;
            }
            settled = true;
            long now = clock.getAsLong();
            for (Buckets b : held) {
                synchronized (b) {
                    if (b.limits.maxConcurrentRequests() != null) {
                        b.concurrent--;
                    }
                    if (b.tokens != null) {
                        if (usedTokens < reservedTokens) {
                            b.tokens.giveBack(reservedTokens - usedTokens, now);
                        } else if (usedTokens > reservedTokens) {
                            b.tokens.takeMore(usedTokens - reservedTokens, now);
                        }
                    }
                }
            }
        }
    }

    public RateLimits(int replicas, LongSupplier nanoClock) {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1");
        }
        this.replicas = replicas;
        this.clock = nanoClock;
    }

    /** How many gateways share each limit (this one enforces {@code 1/replicas}). */
    public int replicas() {
        return replicas;
    }

    /** Admits the request (taking from every applicable bucket) or returns why not; never partially. */
    public Object admit(Principal principal, long reservedTokens) {
        long now = clock.getAsLong();
        var subjects = new ArrayList<Buckets>(2);
        add(subjects, "t:" + principal.tenantId(), principal.tenantLimits(), now);
        add(subjects, "k:" + principal.keyId(), principal.keyLimits(), now);
        // Lock in a fixed order (tenant, then key) so that two requests never deadlock.
        Object decision = admit(subjects, 0, reservedTokens, now);
        if (decision instanceof Admission admission) {
            admission.headers = headers(subjects, 0, now); // what is left after this request
        }
        return decision;
    }

    private Object admit(List<Buckets> subjects, int index, long reserved, long now) {
        if (index == subjects.size()) {
            return new Admission(List.copyOf(subjects), reserved);
        }
        Buckets b = subjects.get(index);
        synchronized (b) {
            Limits l = b.limits;
            if (l.maxConcurrentRequests() != null && b.concurrent >= Buckets.share(l.maxConcurrentRequests(), replicas)) {
                return refusal("concurrency", "Too many concurrent requests.", 1, subjects, reserved, now);
            }
            if (b.requests != null && b.requests.remaining(now) < 1) {
                return refusal("rpm", "Rate limit reached for requests per minute.", b.requests.secondsUntil(1, now), subjects, reserved, now);
            }
            if (l.tokensPerMinute() != null && reserved > l.tokensPerMinute()) {
                return new Refusal("tpm", "This request reserves " + reserved + " tokens (prompt estimate plus max_tokens for every choice), "
                        + "more than the whole limit of " + l.tokensPerMinute() + " tokens per minute: it can never be admitted. "
                        + "Lower max_tokens or n.", 0, headers(subjects, reserved, now));
            }
            if (b.tokens != null && b.tokens.remaining(now) < reserved) {
                return refusal("tpm", "Rate limit reached for tokens per minute.", b.tokens.secondsUntil(reserved, now), subjects, reserved, now);
            }
            Object inner = admit(subjects, index + 1, reserved, now);
            if (inner instanceof Admission) {
                if (l.maxConcurrentRequests() != null) {
                    b.concurrent++;
                }
                if (b.requests != null) {
                    b.requests.tryTake(1, now);
                }
                if (b.tokens != null) {
                    b.tokens.tryTake(reserved, now);
                }
            }
            return inner;
        }
    }

    private Refusal refusal(String kind, String message, long retryAfter, List<Buckets> subjects, long reserved, long now) {
        return new Refusal(kind, message, Math.max(1, retryAfter), headers(subjects, reserved, now));
    }

    /** The headers of the subject with the fewest remaining requests and tokens. */
    private static Headers headers(List<Buckets> subjects, long reserved, long now) {
        Long limitRequests = null;
        Long remainingRequests = null;
        long resetRequests = 0;
        Long limitTokens = null;
        Long remainingTokens = null;
        long resetTokens = 0;
        for (Buckets b : subjects) {
            if (b.requests != null && (remainingRequests == null || b.requests.remaining(now) < remainingRequests)) {
                limitRequests = b.requests.capacity();
                remainingRequests = b.requests.remaining(now);
                resetRequests = b.requests.secondsUntil(b.requests.capacity(), now);
            }
            if (b.tokens != null && (remainingTokens == null || b.tokens.remaining(now) < remainingTokens)) {
                limitTokens = b.tokens.capacity();
                remainingTokens = b.tokens.remaining(now);
                resetTokens = b.tokens.secondsUntil(b.tokens.capacity(), now);
            }
        }
        return new Headers(limitRequests, remainingRequests, resetRequests, limitTokens, remainingTokens, resetTokens);
    }

    private void add(List<Buckets> subjects, String id, Limits limits, long now) {
        if (limits == null || (limits.requestsPerMinute() == null && limits.tokensPerMinute() == null
                && limits.maxConcurrentRequests() == null)) {
            return;
        }
        // New limits (a ledger update) start a fresh bucket; unchanged limits keep the live one.
        subjects.add(buckets.compute(id, (key, existing) -> existing != null && existing.limits.equals(limits)
                ? existing : new Buckets(limits, replicas, now)));
    }
}
