package dev.tollgate.gateway.quota;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.fleet.FleetMember;
import dev.tollgate.gateway.fleet.FleetView;
import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.ledger.Limits;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Requests per minute, tokens per minute and concurrent requests, per tenant and per key, enforced
 * from this gateway's own memory: no network in admission. Each replica enforces its share of every
 * limit, sized from the live fleet and the subject's traffic split that the replicas' heartbeats
 * carry ({@link FleetShares}, ADR 0020); while some replica of the fleet is not heard from, every
 * limit is split evenly over the fleet's size. Tokens are reserved at admission (prompt estimate +
 * max_tokens) and settled with the real count at the end. A reservation larger than this replica's
 * share but within the whole limit borrows what the other replicas have left; they repay it from
 * their own buckets when they hear of it.
 */
public final class RateLimits implements FleetMember {
    /** How long a share is trusted before it is sized again from this replica's own demand. */
    private static final long RESHARE_NANOS = 1_000_000_000L;

    private final Supplier<FleetView> fleet;
    private final LongSupplier clock;
    private final Map<String, Buckets> buckets = new ConcurrentHashMap<>();

    /** The limits of one subject (a tenant or a key), this replica's share of them and their live state. */
    private static final class Buckets {
        final Limits limits;
        final TokenBucket requests;
        final TokenBucket tokens;
        final DemandMeter demand;
        int concurrent;
        long concurrencyShare;
        long viewVersion = -1;
        long sharedAt;
        /** Tokens borrowed from the other replicas since start (monotonic; the heartbeat carries it). */
        long borrowed;
        long borrowedAt;

        /** Made for a first request reserving {@code reserved}: its demand counts in the first shares. */
        Buckets(String subject, Limits limits, FleetView view, long reserved, long now) {
            this.limits = limits;
            this.demand = new DemandMeter(now);
            demand.record(reserved, now);
            this.borrowedAt = now - RESHARE_NANOS;
            List<GatewayHeartbeat.Subject> reports = view.reports(subject);
            Long rpm = limits.requestsPerMinute();
            Long tpm = limits.tokensPerMinute();
            if (rpm == null) {
                requests = null;
            } else {
                long share = FleetShares.share(rpm, weight(view, reports, demand.requestsPerMinute(now), true));
                requests = new TokenBucket(share, initialLevel(view, reports, rpm, share, true), now);
            }
            if (tpm == null) {
                tokens = null;
            } else {
                long share = FleetShares.share(tpm, weight(view, reports, demand.tokensPerMinute(now), false));
                tokens = new TokenBucket(share, initialLevel(view, reports, tpm, share, false), now);
            }
            concurrencyShare = limits.maxConcurrentRequests() == null ? 0
                    : FleetShares.share(limits.maxConcurrentRequests(), weight(view, reports, demand.requestsPerMinute(now), true));
            viewVersion = view.version();
            sharedAt = now;
        }

        /** Sizes this replica's shares again when the fleet changed or the last sizing is older than a second. */
        void reshare(String subject, FleetView view, long now) {
            if (view.version() == viewVersion && now - sharedAt < RESHARE_NANOS) {
                return;
            }
            viewVersion = view.version();
            sharedAt = now;
            List<GatewayHeartbeat.Subject> reports = view.reports(subject);
            double byRequests = weight(view, reports, demand.requestsPerMinute(now), true);
            if (requests != null) {
                requests.resize(FleetShares.share(limits.requestsPerMinute(), byRequests), now);
            }
            if (tokens != null) {
                tokens.resize(FleetShares.share(limits.tokensPerMinute(), weight(view, reports, demand.tokensPerMinute(now), false)), now);
            }
            concurrencyShare = limits.maxConcurrentRequests() == null ? 0 : FleetShares.share(limits.maxConcurrentRequests(), byRequests);
        }

        /**
         * This replica's part of a limit. While some replica of the fleet is not heard from, its traffic
         * is unknown and the limit is split evenly.
         */
        static double weight(FleetView view, List<GatewayHeartbeat.Subject> reports, long own, boolean byRequests) {
            if (view.size() > view.peers().size() + 1) {
                return 1.0 / view.size();
            }
            long others = 0;
            for (GatewayHeartbeat.Subject s : reports) {
                others += byRequests ? s.requestsPerMinute() : s.tokensPerMinute();
            }
            return FleetShares.weight(own, others, view.size());
        }

        /**
         * What a new subject's bucket holds at first. While some replica is not heard from: a full even share
         * (static shares). Otherwise no more than the peers' buckets are full (a replica that joins a busy
         * fleet, or first sees a busy tenant, adds no fresh minute of capacity), and no more than the limit
         * less what the peers can still spend before they hear of this replica: their reported remainders,
         * and an even share for each peer that did not report the subject (it may be meeting the subject in
         * this same second). A subject nobody reports starts with an even share, so replicas that meet a new
         * tenant at once never hold more than the limit between them.
         */
        static long initialLevel(FleetView view, List<GatewayHeartbeat.Subject> reports, long limit, long share, boolean byRequests) {
            if (view.size() > view.peers().size() + 1 || limit <= 0) {
                return share;
            }
            long remaining = 0;
            long shares = 0;
            for (GatewayHeartbeat.Subject s : reports) {
                remaining += Math.max(0, byRequests ? s.remainingRequests() : s.remainingTokens());
                shares += byRequests ? s.requestShare() : s.tokenShare();
            }
            double fill = shares <= 0 ? 1.0 : Math.min(1.0, (double) remaining / shares);
            int silent = view.size() - 1 - reports.size();
            long evenShare = (limit + view.size() - 1) / view.size();
            long unclaimed = limit - remaining - silent * evenShare;
            return Math.max(0, Math.min(Math.round(share * fill), Math.min(share, unclaimed)));
        }

        /**
         * What the fleet has left of a limit as this replica last heard it: its own bucket, what the
         * reporting peers said they had left, and full floor shares for the peers that did not report the
         * subject (their buckets are full). Null while some replica is not heard from.
         */
        Long fleetRemaining(String subject, FleetView view, long now, boolean byRequests) {
            TokenBucket own = byRequests ? requests : tokens;
            if (view.size() > view.peers().size() + 1) {
                return null;
            }
            long limit = byRequests ? limits.requestsPerMinute() : limits.tokensPerMinute();
            List<GatewayHeartbeat.Subject> reports = view.reports(subject);
            long remaining = own.level(now);
            long demand = 0;
            for (GatewayHeartbeat.Subject s : reports) {
                remaining += byRequests ? s.remainingRequests() : s.remainingTokens();
                demand += byRequests ? s.requestsPerMinute() : s.tokensPerMinute();
            }
            demand += byRequests ? this.demand.requestsPerMinute(now) : this.demand.tokensPerMinute(now);
            int silent = view.size() - 1 - reports.size();
            remaining += silent * FleetShares.share(limit, FleetShares.weight(0, demand, view.size()));
            return Math.max(0, Math.min(limit, remaining));
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

    /** The x-ratelimit-* values of the most constrained subject: the limit bought and what the fleet has left of it. */
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

    /** A fixed fleet of {@code replicas} gateways that hear nothing of each other: every limit split evenly. */
    public RateLimits(int replicas, LongSupplier nanoClock) {
        this(fixed(replicas), nanoClock);
    }

    /** Shares sized from the fleet as {@code fleet} last heard it. */
    public RateLimits(Supplier<FleetView> fleet, LongSupplier nanoClock) {
        this.fleet = fleet;
        this.clock = nanoClock;
    }

    private static Supplier<FleetView> fixed(int replicas) {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1");
        }
        FleetView view = FleetView.fixed(replicas);
        return () -> view;
    }

    /** How many gateways share each limit now. */
    public int replicas() {
        return fleet.get().size();
    }

    /** Admits the request (taking from every applicable bucket) or returns why not; never partially. */
    public Object admit(Principal principal, long reservedTokens) {
        long now = clock.getAsLong();
        FleetView view = fleet.get();
        var subjects = new ArrayList<Buckets>(2);
        var names = new ArrayList<String>(2);
        add(subjects, names, "t:" + principal.tenantId(), principal.tenantLimits(), view, reservedTokens, now);
        add(subjects, names, "k:" + principal.keyId(), principal.keyLimits(), view, reservedTokens, now);
        // Lock in a fixed order (tenant, then key) so that two requests never deadlock.
        Object decision = admit(subjects, names, view, 0, reservedTokens, now);
        if (decision instanceof Admission admission) {
            admission.headers = headers(subjects, names, view, 0, now); // what is left after this request
        }
        return decision;
    }

    private Object admit(List<Buckets> subjects, List<String> names, FleetView view, int index, long reserved, long now) {
        if (index == subjects.size()) {
            return new Admission(List.copyOf(subjects), reserved);
        }
        Buckets b = subjects.get(index);
        synchronized (b) {
            Limits l = b.limits;
            if (l.maxConcurrentRequests() != null && b.concurrent >= b.concurrencyShare) {
                return refusal("concurrency", "Too many concurrent requests.", 1, subjects, names, view, reserved, now);
            }
            if (b.requests != null && b.requests.remaining(now) < 1) {
                return refusal("rpm", "Rate limit reached for requests per minute.", b.requests.secondsUntil(1, now), subjects, names, view,
                        reserved, now);
            }
            if (l.tokensPerMinute() != null && reserved > l.tokensPerMinute()) {
                return new Refusal("tpm", "This request reserves " + reserved + " tokens (prompt estimate plus max_tokens for every choice), "
                        + "more than the whole limit of " + l.tokensPerMinute() + " tokens per minute: it can never be admitted. "
                        + "Lower max_tokens or n.", 0, headers(subjects, names, view, reserved, now));
            }
            boolean borrow = false;
            if (b.tokens != null && b.tokens.remaining(now) < reserved) {
                borrow = mayBorrow(b, names.get(index), view, reserved, now);
                if (!borrow) {
                    return refusal("tpm", "Rate limit reached for tokens per minute.", b.tokens.secondsUntil(reserved, now), subjects, names,
                            view, reserved, now);
                }
            }
            Object inner = admit(subjects, names, view, index + 1, reserved, now);
            if (inner instanceof Admission) {
                if (l.maxConcurrentRequests() != null) {
                    b.concurrent++;
                }
                if (b.requests != null) {
                    b.requests.tryTake(1, now);
                }
                if (borrow) {
                    long own = Math.max(0, b.tokens.level(now));
                    b.tokens.takeMore(own, now);
                    b.borrowed += reserved - own;
                    b.borrowedAt = now;
                } else if (b.tokens != null) {
                    b.tokens.tryTake(reserved, now);
                }
            }
            return inner;
        }
    }

    /**
     * A reservation larger than this replica's share may borrow from the fleet when this replica's
     * bucket is not in debt, every replica is heard from, what the fleet has left covers it, and this
     * replica has not borrowed for the subject within the last second (the peers repay one borrowing
     * before the next).
     */
    private static boolean mayBorrow(Buckets b, String subject, FleetView view, long reserved, long now) {
        if (reserved <= b.tokens.capacity() || b.tokens.level(now) < 0 || now - b.borrowedAt < RESHARE_NANOS) {
            return false;
        }
        Long fleetRemaining = b.fleetRemaining(subject, view, now, false);
        return fleetRemaining != null && fleetRemaining >= reserved;
    }

    private Refusal refusal(String kind, String message, long retryAfter, List<Buckets> subjects, List<String> names, FleetView view,
                            long reserved, long now) {
        return new Refusal(kind, message, Math.max(1, retryAfter), headers(subjects, names, view, reserved, now));
    }

    /**
     * The headers of the subject with the fewest remaining requests and tokens: its whole limit, and
     * what the fleet has left of it (this replica's bucket alone, scaled to the limit, while some
     * replica is not heard from).
     */
    private static Headers headers(List<Buckets> subjects, List<String> names, FleetView view, long reserved, long now) {
        Long limitRequests = null;
        Long remainingRequests = null;
        long resetRequests = 0;
        Long limitTokens = null;
        Long remainingTokens = null;
        long resetTokens = 0;
        for (int i = 0; i < subjects.size(); i++) {
            Buckets b = subjects.get(i);
            if (b.requests != null) {
                long left = remaining(b, names.get(i), view, now, true);
                if (remainingRequests == null || left < remainingRequests) {
                    limitRequests = b.limits.requestsPerMinute();
                    remainingRequests = left;
                    resetRequests = b.requests.secondsUntil(b.requests.capacity(), now);
                }
            }
            if (b.tokens != null) {
                long left = remaining(b, names.get(i), view, now, false);
                if (remainingTokens == null || left < remainingTokens) {
                    limitTokens = b.limits.tokensPerMinute();
                    remainingTokens = left;
                    resetTokens = b.tokens.secondsUntil(b.tokens.capacity(), now);
                }
            }
        }
        return new Headers(limitRequests, remainingRequests, resetRequests, limitTokens, remainingTokens, resetTokens);
    }

    private static long remaining(Buckets b, String subject, FleetView view, long now, boolean byRequests) {
        Long fleetRemaining = b.fleetRemaining(subject, view, now, byRequests);
        if (fleetRemaining != null) {
            return fleetRemaining;
        }
        TokenBucket own = byRequests ? b.requests : b.tokens;
        long limit = byRequests ? b.limits.requestsPerMinute() : b.limits.tokensPerMinute();
        return own.capacity() == 0 ? 0 : Math.min(limit, own.remaining(now) * limit / own.capacity());
    }

    private void add(List<Buckets> subjects, List<String> names, String id, Limits limits, FleetView view, long reserved, long now) {
        if (limits == null || (limits.requestsPerMinute() == null && limits.tokensPerMinute() == null
                && limits.maxConcurrentRequests() == null)) {
            return;
        }
        // New limits (a ledger update) start a fresh bucket; unchanged limits keep the live one.
        boolean[] created = {false};
        Buckets b = buckets.compute(id, (key, existing) -> {
            if (existing != null && existing.limits.equals(limits)) {
                return existing;
            }
            created[0] = true;
            return new Buckets(key, limits, view, reserved, now);
        });
        if (!created[0]) {
            synchronized (b) {
                b.demand.record(reserved, now);
                b.reshare(id, view, now);
            }
        }
        subjects.add(b);
        names.add(id);
    }

    /**
     * What this replica tells the fleet in its next heartbeat: every subject asked of it within the
     * demand window, or whose buckets are not full, or that ever borrowed.
     */
    @Override
    public List<GatewayHeartbeat.Subject> report() {
        long now = clock.getAsLong();
        var report = new ArrayList<GatewayHeartbeat.Subject>();
        for (var entry : buckets.entrySet()) {
            Buckets b = entry.getValue();
            synchronized (b) {
                boolean full = (b.requests == null || b.requests.level(now) >= b.requests.capacity())
                        && (b.tokens == null || b.tokens.level(now) >= b.tokens.capacity());
                if (b.demand.idle(now) && full && b.borrowed == 0) {
                    continue;
                }
                report.add(new GatewayHeartbeat.Subject(entry.getKey(), b.demand.requestsPerMinute(now), b.demand.tokensPerMinute(now),
                        b.requests == null ? 0 : b.requests.level(now), b.tokens == null ? 0 : b.tokens.level(now),
                        b.requests == null ? 0 : b.requests.capacity(), b.tokens == null ? 0 : b.tokens.capacity(), b.borrowed));
            }
        }
        return report;
    }

    /**
     * A peer borrowed {@code tokens} more of {@code subject}'s tokens-per-minute limit: this replica
     * repays its part, in proportion to its share of what the lender does not hold ({@code lenderShare}).
     */
    @Override
    public void repay(String subject, long tokens, long lenderShare) {
        Buckets b = buckets.get(subject);
        if (b == null || b.tokens == null || tokens <= 0) {
            return; // a replica that never saw the subject holds only its floor share, untouched: ADR 0020's bound counts it
        }
        long now = clock.getAsLong();
        synchronized (b) {
            long others = Math.max(1, b.limits.tokensPerMinute() - lenderShare);
            long part = (long) Math.ceil((double) tokens * b.tokens.capacity() / others);
            b.tokens.takeMore(Math.min(tokens, part), now);
        }
    }
}
