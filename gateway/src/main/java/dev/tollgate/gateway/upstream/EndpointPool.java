package dev.tollgate.gateway.upstream;

import dev.tollgate.gateway.scheduling.FairQueue;
import dev.tollgate.gateway.scheduling.PriorityClasses;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The endpoints of every pool with their outstanding requests, and the routing policies:
 * <ul>
 *   <li>{@code least-outstanding} (default): the endpoint with the fewest outstanding requests per
 *       unit of weight;</li>
 *   <li>{@code power-of-two}: two endpoints drawn at random (by weight), the less loaded of them;</li>
 *   <li>{@code affinity}: consistent hashing of a session id or prompt prefix onto a ring of
 *       100 virtual nodes per unit of weight, so that a conversation keeps hitting the endpoint
 *       whose KV cache holds its prefix; the next node clockwise when that endpoint is full;</li>
 *   <li>{@code load-aware}: the endpoint with the least load as its server reports it (running and
 *       waiting requests, KV-cache use; {@link LoadScraper}), never less than the gateway's own count;
 *       the gateway's own count alone when the report is stale (ADR 0024);</li>
 *   <li>{@code prefix-aware}: the endpoint that was sent the longest leading part of the prompt (so
 *       likely holds it in its KV cache), unless its load is above {@code loadFactor} times the pool's
 *       mean; a new prefix goes to its place on the ring under the same bound (consistent hashing with
 *       bounded loads, ADR 0024); a session header pins a session the same way.</li>
 * </ul>
 * No endpoint is ever chosen at its {@code maxConcurrency}, while ejected or failing its health
 * checks, or among those a retry already tried.
 */
public final class EndpointPool {
    private static final int VIRTUAL_NODES_PER_WEIGHT = 100;

    private final Map<String, List<Slot>> pools = new TreeMap<>();
    private final Map<String, TreeMap<Long, Slot>> rings = new TreeMap<>();
    /** The one tenant bucket of a {@code fifo} pool: arrival order within a class. */
    private static final String FIFO_BUCKET = "";
    /** Each pool's waiters (ADR 0023); each guarded by its own monitor. */
    private final Map<String, FairQueue<Waiter>> queues = new TreeMap<>();
    private final UpstreamConfig config;
    private final PriorityClasses classes;

    /** One endpoint: its in-flight count and health (passive ejection, active checks). */
    public static final class Slot {
        private final String pool;
        private final UpstreamConfig.Endpoint endpoint;
        private final UpstreamConfig.Ejection ejection;
        private final AtomicInteger outstanding = new AtomicInteger();
        private final AtomicInteger consecutiveFailures = new AtomicInteger();
        private volatile int consecutiveEjections;
        private volatile long ejectedUntilNanos = System.nanoTime();
        private volatile boolean checkedHealthy = true;
        /** Host and port of {@link #url()}, parsed once (spans name the server of every upstream try). */
        private final URI uri;
        /** The server's own last load report (null until one is read). */
        private volatile ServerLoad serverLoad;
        private final IntervalClock loadReads = new IntervalClock();
        private final PrefixMemory prefixes;

        Slot(String pool, UpstreamConfig.Endpoint endpoint, UpstreamConfig.Ejection ejection, int prefixBlocks) {
            this.pool = pool;
            this.endpoint = endpoint;
            this.ejection = ejection;
            this.uri = URI.create(endpoint.url());
            this.prefixes = new PrefixMemory(prefixBlocks);
        }

        /** The server's latest load report. */
        void reported(ServerLoad load) {
            serverLoad = load;
        }

        /** The server's latest load report, or null. */
        public ServerLoad serverLoad() {
            return serverLoad;
        }

        /** True (and the clock reset) when a read of this endpoint's load is due. */
        boolean loadReadDue(long intervalMs) {
            return loadReads.due(intervalMs);
        }

        /**
         * Load per unit of weight: the server's running (never below the gateway's own outstanding count)
         * and waiting requests plus its KV-cache use, while its report is younger than {@code staleNanos};
         * else the gateway's own outstanding count.
         */
        double effectiveLoad(long staleNanos) {
            ServerLoad report = serverLoad;
            int own = outstanding.get();
            if (report == null || staleNanos <= 0 || System.nanoTime() - report.atNanos() > staleNanos) {
                return (double) own / endpoint.weightOrDefault();
            }
            return (Math.max(own, report.running()) + report.waiting()) / endpoint.weightOrDefault() + report.kvCacheUsage();
        }

        /** The endpoint's host name or address. */
        public String host() {
            return uri.getHost();
        }

        /** The endpoint's port, or -1 when the URL names none. */
        public int port() {
            return uri.getPort();
        }

        /** True if it may take traffic now: healthy by the last active check and not ejected. */
        public boolean healthy() {
            return checkedHealthy && System.nanoTime() - ejectedUntilNanos >= 0;
        }

        /** A request it served did not fail on its side. */
        void succeeded() {
            consecutiveFailures.set(0);
            consecutiveEjections = 0;
        }

        /** A refused connection, a 5xx or a timeout: enough of them in a row eject the endpoint. */
        void failed() {
            if (consecutiveFailures.incrementAndGet() >= ejection.afterFailures()) {
                consecutiveFailures.set(0);
                int doublings = Math.min(consecutiveEjections, 16);
                consecutiveEjections++;
                ejectedUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ejection.forMs()) * (1L << doublings);
            }
        }

        /** The result of an active health check. */
        public void checked(boolean healthy) {
            checkedHealthy = healthy;
        }

        private final IntervalClock checks = new IntervalClock();

        /** True (and the clock reset) when a health check of this endpoint is due. */
        boolean checkDue(long intervalMs) {
            return checks.due(intervalMs);
        }

        public String url() {
            return endpoint.url();
        }

        /** {@code pool/url}, as usage events name the upstream. */
        public String name() {
            return pool + "/" + endpoint.url();
        }

        public int outstanding() {
            return outstanding.get();
        }

        boolean full() {
            return outstanding.get() >= endpoint.maxConcurrencyOrDefault();
        }

        double load() {
            return (double) outstanding.get() / endpoint.weightOrDefault();
        }

        boolean claim() {
            while (true) {
                int seen = outstanding.get();
                if (seen >= endpoint.maxConcurrencyOrDefault()) {
                    return false;
                }
                if (outstanding.compareAndSet(seen, seen + 1)) {
                    return true;
                }
            }
        }
    }

    /** A claimed slot; {@link #release()} exactly once when the request ends. */
    public record Lease(Slot slot, UpstreamConfig.Pool pool, AtomicInteger released, EndpointPool owner) {
        public void release() {
            if (released.compareAndSet(0, 1)) {
                slot.outstanding.decrementAndGet();
                owner.handOver(slot.pool);
            }
        }

        /** The endpoint answered (any status below 500). */
        public void succeeded() {
            slot.succeeded();
        }

        /** The endpoint failed this request (refused, 5xx, timeout). */
        public void failed() {
            slot.failed();
        }
    }

    public EndpointPool(UpstreamConfig config) {
        this.config = config;
        this.classes = new PriorityClasses(config.scheduling());
        config.pools().forEach((name, pool) -> {
            var slots = new ArrayList<Slot>();
            pool.endpoints().forEach(endpoint -> slots.add(new Slot(name, endpoint, pool.ejectionOrDefault(),
                    "prefix-aware".equals(pool.policyOrDefault()) ? pool.prefixOrDefault().blocksPerEndpoint() : 1)));
            pools.put(name, List.copyOf(slots));
            var ring = new TreeMap<Long, Slot>();
            for (Slot slot : slots) {
                for (int i = 0; i < VIRTUAL_NODES_PER_WEIGHT * slot.endpoint.weightOrDefault(); i++) {
                    ring.put(hash(slot.url() + "#" + i), slot);
                }
            }
            rings.put(name, ring);
            queues.put(name, new FairQueue<>(config.scheduling().classes().size(), pool.maxQueued(),
                    pool.fairQueuing() ? pool.maxQueuedPerTenantOrDefault() : Math.max(1, pool.maxQueued()),
                    TimeUnit.MILLISECONDS.toNanos(config.scheduling().starvationMs())));
        });
    }

    public UpstreamConfig config() {
        return config;
    }

    /** The priority classes of this configuration. */
    public PriorityClasses classes() {
        return classes;
    }

    /** Every endpoint of {@code pool}. */
    public List<Slot> slots(String pool) {
        return pools.getOrDefault(pool, List.of());
    }

    /**
     * What keeps a conversation on the endpoint that holds its KV cache: a session id (a header, or for
     * {@code affinity} without one the prompt's start) and, for {@code prefix-aware}, the chained hashes
     * of the prompt's leading blocks. Either may be null.
     */
    public record Affinity(String session, long[] prefixBlocks) {
        public static final Affinity NONE = new Affinity(null, null);

        public static Affinity session(String session) {
            return session == null ? NONE : new Affinity(session, null);
        }
    }

    /** A slot for {@code model}, or empty when every endpoint of its pool is at its limit. */
    public Optional<Lease> acquire(String model) {
        return acquire(model, Set.of(), Affinity.NONE);
    }

    /** A slot for {@code model} by its pool's policy, never one in {@code exclude}; {@code session} for {@code affinity}. */
    public Optional<Lease> acquire(String model, Set<Slot> exclude, String session) {
        return acquire(model, exclude, Affinity.session(session));
    }

    /** A slot for {@code model} by its pool's policy, never one in {@code exclude}. */
    public Optional<Lease> acquire(String model, Set<Slot> exclude, Affinity affinity) {
        UpstreamConfig.ModelRoute route = config.models().get(model);
        UpstreamConfig.Pool pool = config.pools().get(route.pool());
        List<Slot> slots = pools.get(route.pool());
        UpstreamConfig.LoadMetrics loadMetrics = pool.loadMetricsOrDefault();
        long staleNanos = loadMetrics == null ? 0 : TimeUnit.MILLISECONDS.toNanos(loadMetrics.staleMsOrDefault());
        for (int attempt = 0; attempt < 8; attempt++) {
            Slot chosen = switch (pool.policyOrDefault()) {
                case "power-of-two" -> powerOfTwo(slots, exclude);
                case "affinity" -> affinity.session() == null ? leastOutstanding(slots, exclude)
                        : onRing(rings.get(route.pool()), hash(affinity.session()), exclude, slot -> true);
                case "load-aware" -> leastLoaded(slots, exclude, staleNanos);
                case "prefix-aware" -> prefixAware(route.pool(), pool.prefixOrDefault(), slots, exclude, affinity, staleNanos);
                default -> leastOutstanding(slots, exclude);
            };
            if (chosen == null) {
                return Optional.empty();
            }
            if (chosen.claim()) {
                if (affinity.prefixBlocks() != null && "prefix-aware".equals(pool.policyOrDefault())) {
                    chosen.prefixes.remember(affinity.prefixBlocks());
                }
                return Optional.of(new Lease(chosen, pool, new AtomicInteger(), this));
            }
        }
        return Optional.empty();
    }

    /** A request waiting for capacity: it gets a lease, is shed for higher-priority work, or gives up first. */
    public static final class Waiter {
        private final String model;
        private final Affinity affinity;
        private final Consumer<Lease> onLease;
        private final Runnable onShed;
        private final long enqueuedNanos = System.nanoTime();
        private FairQueue<Waiter>.Ticket ticket;
        private boolean done;

        Waiter(String model, Affinity affinity, Consumer<Lease> onLease, Runnable onShed) {
            this.model = model;
            this.affinity = affinity;
            this.onLease = onLease;
            this.onShed = onShed;
        }

        /** When it started waiting ({@link System#nanoTime()}). */
        public long enqueuedNanos() {
            return enqueuedNanos;
        }
    }

    /**
     * What {@link #enqueue} did: the waiter, or why the request may not wait.
     *
     * @param refusal {@code QUEUE_FULL} (the pool's queue holds only work of the request's class or higher)
     *                or {@code TENANT_FULL} (the tenant already has its share of the queue)
     */
    public record Enqueued(Waiter waiter, FairQueue.Refusal refusal) {}

    /**
     * Queues a request for {@code model} until an endpoint of its pool has capacity, in the pool's fair
     * queue (ADR 0023). {@code onLease} runs on the thread that frees the capacity; {@code onShed} on the
     * thread of a higher-priority arrival that pushed this request out of a full queue.
     *
     * @param priorityClass the request's class (0 the highest)
     * @param tenant        whose request it is; {@code weight} its fair share among its class
     */
    public Enqueued enqueue(String model, Affinity affinity, int priorityClass, String tenant, int weight,
                            Consumer<Lease> onLease, Runnable onShed) {
        String pool = config.models().get(model).pool();
        FairQueue<Waiter> queue = queues.get(pool);
        var waiter = new Waiter(model, affinity, onLease, onShed);
        Waiter shed = null;
        synchronized (queue) {
            boolean fair = config.pools().get(pool).fairQueuing();
            var offer = queue.offer(waiter, priorityClass, fair ? tenant : FIFO_BUCKET, fair ? weight : 1, waiter.enqueuedNanos);
            if (!offer.queued()) {
                return new Enqueued(null, offer.refusal());
            }
            waiter.ticket = offer.ticket();
            if (offer.shed() != null) {
                shed = offer.shed().item();
                shed.done = true;
            }
        }
        if (shed != null) {
            shed.onShed.run();
        }
        handOver(pool); // capacity may have freed between the failed acquire and now
        return new Enqueued(waiter, null);
    }

    /** Gives up waiting; false if the waiter already got (or is getting) a lease, or was shed. */
    public boolean cancel(Waiter waiter) {
        String pool = config.models().get(waiter.model).pool();
        var queue = queues.get(pool);
        synchronized (queue) {
            if (waiter.done) {
                return false;
            }
            waiter.done = true;
            queue.remove(waiter.ticket);
            return true;
        }
    }

    /** Requests waiting for {@code pool}. */
    public int queued(String pool) {
        var queue = queues.get(pool);
        if (queue == null) {
            return 0;
        }
        synchronized (queue) {
            return queue.size();
        }
    }

    /** Serves the pool's waiters, in the fair queue's order, while an endpoint has capacity. */
    private void handOver(String pool) {
        var queue = queues.get(pool);
        if (queue == null) {
            return;
        }
        while (true) {
            Waiter waiter;
            Lease lease;
            synchronized (queue) {
                long now = System.nanoTime();
                var next = queue.peek(now);
                if (next == null) {
                    return;
                }
                Optional<Lease> claimed = acquire(next.item().model, Set.of(), next.item().affinity);
                if (claimed.isEmpty()) {
                    return;
                }
                waiter = queue.poll(now).item();
                waiter.done = true;
                lease = claimed.get();
            }
            waiter.onLease.accept(lease);
        }
    }

    private static Slot leastOutstanding(List<Slot> slots, Set<Slot> exclude) {
        Slot best = null;
        for (Slot slot : slots) {
            if (usable(slot, exclude) && (best == null || slot.load() < best.load())) {
                best = slot;
            }
        }
        return best;
    }

    private static Slot powerOfTwo(List<Slot> slots, Set<Slot> exclude) {
        List<Slot> eligible = slots.stream().filter(s -> usable(s, exclude)).toList();
        if (eligible.size() <= 1) {
            return eligible.isEmpty() ? null : eligible.getFirst();
        }
        Slot a = weightedPick(eligible);
        Slot b = weightedPick(eligible);
        for (int i = 0; i < 4 && b == a; i++) {
            b = weightedPick(eligible);
        }
        return a.load() <= b.load() ? a : b;
    }

    private static Slot weightedPick(List<Slot> slots) {
        int total = slots.stream().mapToInt(s -> s.endpoint.weightOrDefault()).sum();
        int ticket = ThreadLocalRandom.current().nextInt(total);
        for (Slot slot : slots) {
            ticket -= slot.endpoint.weightOrDefault();
            if (ticket < 0) {
                return slot;
            }
        }
        return slots.getLast();
    }

    /** The first usable endpoint clockwise from {@code point} that {@code allowed} admits. */
    private static Slot onRing(TreeMap<Long, Slot> ring, long point, Set<Slot> exclude, Predicate<Slot> allowed) {
        for (Slot slot : ring.tailMap(point, true).values()) {
            if (usable(slot, exclude) && allowed.test(slot)) {
                return slot;
            }
        }
        for (Slot slot : ring.headMap(point, false).values()) {
            if (usable(slot, exclude) && allowed.test(slot)) {
                return slot;
            }
        }
        return null;
    }

    private static Slot leastLoaded(List<Slot> slots, Set<Slot> exclude, long staleNanos) {
        Slot best = null;
        double bestLoad = Double.MAX_VALUE;
        for (Slot slot : slots) {
            if (usable(slot, exclude)) {
                double load = slot.effectiveLoad(staleNanos);
                if (best == null || load < bestLoad) {
                    best = slot;
                    bestLoad = load;
                }
            }
        }
        return best;
    }

    /**
     * The usable endpoint holding the longest leading part of the prompt among those whose load, with
     * this request, stays within {@code loadFactor} times the pool's mean (ties: the less loaded); for a
     * prefix none holds, its first block's place on the ring under the same bound; when the bound
     * admits nobody, the least loaded.
     */
    private Slot prefixAware(String pool, UpstreamConfig.PrefixRouting routing, List<Slot> slots, Set<Slot> exclude, Affinity affinity,
                             long staleNanos) {
        // Each usable endpoint's load, read once per decision: reports change under us.
        Map<Slot, Double> loads = new IdentityHashMap<>();
        double totalLoad = 0;
        int totalWeight = 0;
        for (Slot slot : slots) {
            if (usable(slot, exclude)) {
                double load = slot.effectiveLoad(staleNanos);
                loads.put(slot, load);
                totalLoad += load * slot.endpoint.weightOrDefault();
                totalWeight += slot.endpoint.weightOrDefault();
            }
        }
        if (totalWeight == 0) {
            return null;
        }
        double meanAfter = (totalLoad + 1) / totalWeight;
        // An endpoint's bound in requests is ceil(c · mean · weight), as consistent hashing with bounded loads has it.
        Predicate<Slot> withinBound = slot -> {
            Double load = loads.get(slot);
            int weight = slot.endpoint.weightOrDefault();
            return load != null && load * weight + 1 <= Math.ceil(routing.loadFactor() * meanAfter * weight);
        };
        if (affinity.session() != null) {
            Slot pinned = onRing(rings.get(pool), hash(affinity.session()), exclude, withinBound);
            return pinned != null ? pinned : leastLoaded(slots, exclude, staleNanos);
        }
        long[] blocks = affinity.prefixBlocks();
        if (blocks == null || blocks.length == 0) {
            return leastLoaded(slots, exclude, staleNanos);
        }
        Slot best = null;
        int bestMatch = 0;
        for (Slot slot : slots) {
            if (!withinBound.test(slot)) {
                continue;
            }
            int match = slot.prefixes.matched(blocks);
            if (match > bestMatch || match == bestMatch && match > 0 && loads.get(slot) < loads.get(best)) {
                best = slot;
                bestMatch = match;
            }
        }
        if (best != null) {
            return best;
        }
        Slot placed = onRing(rings.get(pool), blocks[0], exclude, withinBound);
        return placed != null ? placed : leastLoaded(slots, exclude, staleNanos);
    }

    private static boolean usable(Slot slot, Set<Slot> exclude) {
        return !exclude.contains(slot) && !slot.full() && slot.healthy();
    }

    /** The first 8 bytes of SHA-256: a well-spread, stable position on the ring. */
    static long hash(String value) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            long hash = 0;
            for (int i = 0; i < 8; i++) {
                hash = (hash << 8) | (digest[i] & 0xff);
            }
            return hash;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
