package dev.tollgate.gateway.upstream;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The endpoints of every pool with their outstanding requests, and the routing policies:
 * <ul>
 *   <li>{@code least-outstanding} (default): the endpoint with the fewest outstanding requests per
 *       unit of weight;</li>
 *   <li>{@code power-of-two}: two endpoints drawn at random (by weight), the less loaded of them;</li>
 *   <li>{@code affinity}: consistent hashing of a session id or prompt prefix onto a ring of
 *       100 virtual nodes per unit of weight, so that a conversation keeps hitting the endpoint
 *       whose KV cache holds its prefix; the next node clockwise when that endpoint is full.</li>
 * </ul>
 * No endpoint is ever chosen at its {@code maxConcurrency} or among those a retry already tried.
 */
public final class EndpointPool {
    private static final int VIRTUAL_NODES_PER_WEIGHT = 100;

    private final Map<String, List<Slot>> pools = new TreeMap<>();
    private final Map<String, TreeMap<Long, Slot>> rings = new TreeMap<>();
    private final UpstreamConfig config;

    /** One endpoint and its in-flight count. */
    public static final class Slot {
        private final String pool;
        private final UpstreamConfig.Endpoint endpoint;
        private final AtomicInteger outstanding = new AtomicInteger();

        Slot(String pool, UpstreamConfig.Endpoint endpoint) {
            this.pool = pool;
            this.endpoint = endpoint;
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
    public record Lease(Slot slot, UpstreamConfig.Pool pool, AtomicInteger released) {
        public void release() {
            if (released.compareAndSet(0, 1)) {
                slot.outstanding.decrementAndGet();
            }
        }
    }

    public EndpointPool(UpstreamConfig config) {
        this.config = config;
        config.pools().forEach((name, pool) -> {
            var slots = new ArrayList<Slot>();
            pool.endpoints().forEach(endpoint -> slots.add(new Slot(name, endpoint)));
            pools.put(name, List.copyOf(slots));
            var ring = new TreeMap<Long, Slot>();
            for (Slot slot : slots) {
                for (int i = 0; i < VIRTUAL_NODES_PER_WEIGHT * slot.endpoint.weightOrDefault(); i++) {
                    ring.put(hash(slot.url() + "#" + i), slot);
                }
            }
            rings.put(name, ring);
        });
    }

    public UpstreamConfig config() {
        return config;
    }

    /** A slot for {@code model}, or empty when every endpoint of its pool is at its limit. */
    public Optional<Lease> acquire(String model) {
        return acquire(model, Set.of(), null);
    }

    /**
     * A slot for {@code model} by its pool's policy, never one in {@code exclude}.
     *
     * @param affinityKey the session id or prompt prefix for the {@code affinity} policy (may be null)
     */
    public Optional<Lease> acquire(String model, Set<Slot> exclude, String affinityKey) {
        UpstreamConfig.ModelRoute route = config.models().get(model);
        UpstreamConfig.Pool pool = config.pools().get(route.pool());
        List<Slot> slots = pools.get(route.pool());
        for (int attempt = 0; attempt < 8; attempt++) {
            Slot chosen = switch (pool.policyOrDefault()) {
                case "power-of-two" -> powerOfTwo(slots, exclude);
                case "affinity" -> affinityKey == null ? leastOutstanding(slots, exclude)
                        : onRing(rings.get(route.pool()), affinityKey, exclude);
                default -> leastOutstanding(slots, exclude);
            };
            if (chosen == null) {
                return Optional.empty();
            }
            if (chosen.claim()) {
                return Optional.of(new Lease(chosen, pool, new AtomicInteger()));
            }
        }
        return Optional.empty();
    }

    private static Slot leastOutstanding(List<Slot> slots, Set<Slot> exclude) {
        Slot best = null;
        for (Slot slot : slots) {
            if (!exclude.contains(slot) && !slot.full() && (best == null || slot.load() < best.load())) {
                best = slot;
            }
        }
        return best;
    }

    private static Slot powerOfTwo(List<Slot> slots, Set<Slot> exclude) {
        List<Slot> eligible = slots.stream().filter(s -> !exclude.contains(s) && !s.full()).toList();
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

    private static Slot onRing(TreeMap<Long, Slot> ring, String key, Set<Slot> exclude) {
        long point = hash(key);
        var tail = ring.tailMap(point, true).values();
        for (Slot slot : tail) {
            if (!exclude.contains(slot) && !slot.full()) {
                return slot;
            }
        }
        for (Slot slot : ring.headMap(point, false).values()) {
            if (!exclude.contains(slot) && !slot.full()) {
                return slot;
            }
        }
        return null;
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
