package dev.tollgate.gateway.upstream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The endpoints of every pool with their outstanding requests. Routing picks, in a model's pool,
 * the endpoint with the fewest outstanding requests per unit of weight (least outstanding requests),
 * never one at its {@code maxConcurrency}.
 */
public final class EndpointPool {
    private final Map<String, List<Slot>> pools = new TreeMap<>();
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
        });
    }

    public UpstreamConfig config() {
        return config;
    }

    /** A slot for {@code model}, or empty when every endpoint of its pool is at its limit. */
    public Optional<Lease> acquire(String model) {
        return acquire(model, java.util.Set.of());
    }

    /** As {@link #acquire(String)}, never choosing an endpoint in {@code exclude} (a retry's earlier tries). */
    public Optional<Lease> acquire(String model, java.util.Set<Slot> exclude) {
        UpstreamConfig.ModelRoute route = config.models().get(model);
        List<Slot> slots = pools.get(route.pool());
        for (int attempt = 0; attempt < 4; attempt++) {
            Slot best = null;
            double bestLoad = Double.MAX_VALUE;
            for (Slot slot : slots) {
                int outstanding = slot.outstanding.get();
                if (exclude.contains(slot) || outstanding >= slot.endpoint.maxConcurrencyOrDefault()) {
                    continue;
                }
                double load = (double) outstanding / slot.endpoint.weightOrDefault();
                if (load < bestLoad) {
                    best = slot;
                    bestLoad = load;
                }
            }
            if (best == null) {
                return Optional.empty();
            }
            int seen = best.outstanding.get();
            if (seen < best.endpoint.maxConcurrencyOrDefault() && best.outstanding.compareAndSet(seen, seen + 1)) {
                return Optional.of(new Lease(best, config.pools().get(route.pool()), new AtomicInteger()));
            }
        }
        return Optional.empty();
    }
}
