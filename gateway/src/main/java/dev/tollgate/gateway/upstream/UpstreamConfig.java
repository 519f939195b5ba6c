package dev.tollgate.gateway.upstream;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import dev.tollgate.schemas.key.KeyScopes;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The upstream file: public model names mapped to pools of OpenAI-compatible endpoints.
 *
 * <pre>
 * scheduling:                         # optional: the gateway's priority classes, highest first (ADR 0023)
 *   classes: [interactive, standard, batch]
 *   defaultClass: standard            # for plans, tenants and keys that name none
 *   starvationMs: 2000                # a backlogged class waits at most this long for a grant
 * pools:
 *   local:
 *     credential: ${ENV_VAR}            # optional bearer sent upstream (never the tenant's key)
 *     policy: least-outstanding         # or power-of-two, affinity (consistent hash on a session or prompt prefix),
 *                                       # load-aware (the servers' own load) or prefix-aware (KV-cache locality, bounded load)
 *     loadMetrics: {path: /metrics, intervalMs: 1000, staleMs: 3000}   # optional: read the servers' load (vLLM names by default)
 *     prefix: {blockChars: 256, maxBlocks: 32, loadFactor: 1.25, blocksPerEndpoint: 65536}   # optional: prefix-aware tuning
 *     ejection: {afterFailures: 3, forMs: 10000}     # passive ejection / circuit breaking
 *     healthCheck: {path: /health, intervalMs: 5000}  # optional active checks
 *     timeouts: {connectMs: 2000, firstByteMs: 30000, idleMs: 60000}
 *     maxQueuedPerTenant: 32            # optional: one tenant's share of the pool's queue (default half of it)
 *     queueing: fair                    # or fifo: arrival order within a class, no per-tenant sharing
 *     priority: {field: priority, values: {interactive: -10, standard: 0, batch: 10}}   # optional: tell the servers
 *     apis: [chat.completions, completions, embeddings, responses, messages]   # optional: the APIs its servers speak (default: all)
 *     endpoints:
 *       - {url: http://127.0.0.1:8000, weight: 1, maxConcurrency: 256, maxQueued: 64}
 * models:
 *   fake-chat: {pool: local}
 *   chat-large: {pool: local, upstreamModel: meta-llama/Llama-3.1-70B-Instruct}
 * </pre>
 * A bad file fails with a message naming the offending key.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record UpstreamConfig(Map<String, Pool> pools, Map<String, ModelRoute> models, Scheduling scheduling) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * The priority classes and how long the lowest may starve (ADR 0023).
     *
     * @param classes      class names, highest priority first
     * @param defaultClass the class of requests whose plan, tenant and key name none
     * @param starvationMs the longest a backlogged class goes without a grant while higher ones are served
     */
    public record Scheduling(List<String> classes, String defaultClass, Long starvationMs) {
        public static final Scheduling DEFAULT = new Scheduling(List.of("interactive", "standard", "batch"), "standard", 2_000L);

        public Scheduling {
            classes = classes == null ? DEFAULT.classes : List.copyOf(classes);
            defaultClass = defaultClass == null ? (classes.contains("standard") ? "standard" : classes.getLast()) : defaultClass;
            starvationMs = starvationMs == null ? DEFAULT.starvationMs : starvationMs;
        }
    }

    /**
     * How a pool's servers learn a request's class: a JSON body field (vLLM's {@code priority} under
     * {@code --scheduling-policy priority}: lower is served earlier) or a header, with the value for
     * each class. Pools without it are sent nothing.
     */
    public record PriorityHint(String field, String header, Map<String, Integer> values) {
        public PriorityHint {
            values = values == null ? Map.of() : Map.copyOf(values);
        }
    }

    /**
     * @param policy         {@code least-outstanding} (default), {@code power-of-two} or {@code affinity}
     * @param affinityHeader for {@code affinity}: the request header naming a session (default
     *                       {@code x-session-id}); without it the prompt's first 256 characters are the key
     * @param maxQueuedPerTenant requests of one tenant that may wait for the pool (default half the pool's queue)
     * @param priority       how to pass the request's class to the servers (null: not at all)
     * @param apis           the APIs the pool's servers speak, by their scope names ({@code chat.completions},
     *                       {@code responses}, {@code messages}, ...); null: every API the gateway serves (ADR 0029)
     */
    public record Pool(String credential, Timeouts timeouts, List<Endpoint> endpoints, String policy, String affinityHeader,
                       Ejection ejection, HealthCheck healthCheck, Integer maxQueuedPerTenant, PriorityHint priority,
                       LoadMetrics loadMetrics, PrefixRouting prefix, String queueing, List<String> apis) {
        public static final List<String> POLICIES = List.of("least-outstanding", "power-of-two", "affinity", "load-aware", "prefix-aware");

        /** True if the pool's servers speak the API of scope name {@code api} ({@code KeyScopes.of(endpoint)}). */
        public boolean speaks(String api) {
            return apis == null || apis.contains(api);
        }

        /** The load metrics to read: as configured, vLLM's for {@code load-aware} without any, else none. */
        public LoadMetrics loadMetricsOrDefault() {
            return loadMetrics != null ? loadMetrics : "load-aware".equals(policy) ? LoadMetrics.VLLM : null;
        }

        /**
         * {@code fair} (default): tenants share a saturated pool by weight, each within its bound (ADR 0023);
         * {@code fifo}: arrival order within a class, no per-tenant sharing or bound (single-tenant pools).
         */
        public boolean fairQueuing() {
            return queueing == null || "fair".equals(queueing);
        }

        public PrefixRouting prefixOrDefault() {
            return prefix == null ? PrefixRouting.DEFAULT : prefix;
        }

        public Ejection ejectionOrDefault() {
            return ejection == null ? Ejection.DEFAULT : ejection;
        }

        public String policyOrDefault() {
            return policy == null ? "least-outstanding" : policy;
        }

        public String affinityHeaderOrDefault() {
            return affinityHeader == null ? "x-session-id" : affinityHeader;
        }

        /** Requests that may wait for the pool: the sum of its endpoints' {@code maxQueued}. */
        public int maxQueued() {
            return endpoints.stream().mapToInt(Endpoint::maxQueuedOrDefault).sum();
        }

        /** Requests of one tenant that may wait for the pool. */
        public int maxQueuedPerTenantOrDefault() {
            return maxQueuedPerTenant != null ? maxQueuedPerTenant : Math.max(1, maxQueued() / 2);
        }
    }

    /**
     * Where and how often to read a model server's own load (ADR 0024): a Prometheus text exposition at
     * {@code path}, the gauges named {@code running}, {@code waiting} and {@code kvCache} (vLLM's names by
     * default; SGLang: {@code sglang:num_running_reqs}, {@code sglang:num_queue_reqs}, {@code sglang:token_usage}),
     * every {@code intervalMs}; a report older than {@code staleMs} is ignored.
     */
    public record LoadMetrics(String path, Long intervalMs, Long staleMs, String running, String waiting, String kvCache) {
        public static final LoadMetrics VLLM = new LoadMetrics(null, null, null, null, null, null);

        public String pathOrDefault() {
            return path == null ? "/metrics" : path;
        }

        public long intervalMsOrDefault() {
            return intervalMs == null ? 1_000 : intervalMs;
        }

        public long staleMsOrDefault() {
            return staleMs == null ? 3 * intervalMsOrDefault() : staleMs;
        }

        public String runningOrDefault() {
            return running == null ? "vllm:num_requests_running" : running;
        }

        public String waitingOrDefault() {
            return waiting == null ? "vllm:num_requests_waiting" : waiting;
        }

        public String kvCacheOrDefault() {
            return kvCache == null ? "vllm:kv_cache_usage_perc" : kvCache;
        }
    }

    /**
     * Prefix-aware routing (ADR 0024): the rendered prompt is cut into blocks of {@code blockChars}
     * characters (at most {@code maxBlocks}); each endpoint remembers the last {@code blocksPerEndpoint}
     * block hashes it was sent; a request goes to the endpoint holding its longest prefix unless that
     * endpoint's load exceeds {@code loadFactor} times the pool's mean (consistent hashing with bounded loads).
     */
    public record PrefixRouting(Integer blockChars, Integer maxBlocks, Double loadFactor, Integer blocksPerEndpoint) {
        public static final PrefixRouting DEFAULT = new PrefixRouting(256, 32, 1.25, 65_536);

        public PrefixRouting {
            blockChars = blockChars == null ? 256 : blockChars;
            maxBlocks = maxBlocks == null ? 32 : maxBlocks;
            loadFactor = loadFactor == null ? 1.25 : loadFactor;
            blocksPerEndpoint = blocksPerEndpoint == null ? 65_536 : blocksPerEndpoint;
        }
    }

    /** @param maxQueued requests that may wait for this endpoint's capacity (pooled per pool; default 64) */
    public record Endpoint(String url, Integer weight, Integer maxConcurrency, Integer maxQueued) {
        public int maxQueuedOrDefault() {
            return maxQueued == null ? 64 : maxQueued;
        }

        public int weightOrDefault() {
            return weight == null ? 1 : weight;
        }

        public int maxConcurrencyOrDefault() {
            return maxConcurrency == null ? 256 : maxConcurrency;
        }
    }

    /**
     * Passive ejection (circuit breaking): after {@code afterFailures} consecutive failures
     * (refused connection, 5xx, timeout) an endpoint gets no traffic for {@code forMs}, doubled on
     * every consecutive ejection up to 16 times; the first request after that is its trial.
     */
    public record Ejection(int afterFailures, long forMs) {
        public static final Ejection DEFAULT = new Ejection(3, 10_000);
    }

    /** Active health checks: {@code GET path} every {@code intervalMs}; a non-2xx answer or none takes the endpoint out. */
    public record HealthCheck(String path, long intervalMs) {}

    public record Timeouts(Long connectMs, Long firstByteMs, Long idleMs) {
        public static final Timeouts DEFAULT = new Timeouts(2_000L, 30_000L, 60_000L);
    }

    /** @param upstreamModel the name the pool knows the model by; the public name if absent */
    public record ModelRoute(String pool, String upstreamModel) {}

    public UpstreamConfig {
        pools = pools == null ? Map.of() : Map.copyOf(pools);
        models = models == null ? Map.of() : new TreeMap<>(models);
        scheduling = scheduling == null ? Scheduling.DEFAULT : scheduling;
        validate(pools, models);
        validate(scheduling, pools);
    }

    /** Reads and validates the file. */
    public static UpstreamConfig load(Path file) {
        try {
            return YAML.readValue(file.toFile(), UpstreamConfig.class);
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new IllegalArgumentException("upstream file " + file + ": " + cause.getMessage(), e);
        }
    }

    /** Parses YAML text (for tests and embedded defaults). */
    public static UpstreamConfig parse(String yaml) {
        try {
            return YAML.readValue(yaml, UpstreamConfig.class);
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new IllegalArgumentException("upstream config: " + cause.getMessage(), e);
        }
    }

    /** The public model names, sorted. */
    public List<String> modelNames() {
        return List.copyOf(models.keySet());
    }

    private static void validate(Map<String, Pool> pools, Map<String, ModelRoute> models) {
        pools.forEach((name, pool) -> {
            if (pool == null || pool.endpoints() == null || pool.endpoints().isEmpty()) {
                throw new IllegalArgumentException("pools." + name + ".endpoints must list at least one endpoint");
            }
            for (int i = 0; i < pool.endpoints().size(); i++) {
                Endpoint endpoint = pool.endpoints().get(i);
                String key = "pools." + name + ".endpoints[" + i + "]";
                URI uri;
                try {
                    uri = URI.create(endpoint.url());
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(key + ".url is not a URL: " + endpoint.url());
                }
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    throw new IllegalArgumentException(key + ".url must be an http(s) URL, was " + endpoint.url());
                }
                if (endpoint.weightOrDefault() < 1 || endpoint.maxConcurrencyOrDefault() < 1 || endpoint.maxQueuedOrDefault() < 0) {
                    throw new IllegalArgumentException(key + ": weight and maxConcurrency must be >= 1, maxQueued >= 0");
                }
            }
            if (pool.ejection() != null && (pool.ejection().afterFailures() < 1 || pool.ejection().forMs() < 1)) {
                throw new IllegalArgumentException("pools." + name + ".ejection needs afterFailures >= 1 and forMs >= 1");
            }
            if (pool.healthCheck() != null && (pool.healthCheck().path() == null || !pool.healthCheck().path().startsWith("/")
                    || pool.healthCheck().intervalMs() < 100)) {
                throw new IllegalArgumentException("pools." + name + ".healthCheck needs a path starting with / and intervalMs >= 100");
            }
            if (!Pool.POLICIES.contains(pool.policyOrDefault())) {
                throw new IllegalArgumentException("pools." + name + ".policy must be one of " + Pool.POLICIES);
            }
            if (pool.apis() != null) {
                for (String api : pool.apis()) {
                    if (!KeyScopes.ENDPOINTS.contains(api)) {
                        throw new IllegalArgumentException("pools." + name + ".apis: unknown API '" + api + "'; known: "
                                + KeyScopes.ENDPOINTS.stream().sorted().toList());
                    }
                }
            }
            Timeouts t = pool.timeouts();
            if (t != null && (notPositive(t.connectMs()) || notPositive(t.firstByteMs()) || notPositive(t.idleMs()))) {
                throw new IllegalArgumentException("pools." + name + ".timeouts must be > 0 milliseconds");
            }
        });
        models.forEach((model, route) -> {
            if (route == null || route.pool() == null || !pools.containsKey(route.pool())) {
                throw new IllegalArgumentException("models." + model + ".pool must name one of the pools " + pools.keySet());
            }
        });
    }

    private static void validate(Scheduling scheduling, Map<String, Pool> pools) {
        if (scheduling.classes().isEmpty() || scheduling.classes().size() != scheduling.classes().stream().distinct().count()) {
            throw new IllegalArgumentException("scheduling.classes must list at least one class, each once");
        }
        if (!scheduling.classes().contains(scheduling.defaultClass())) {
            throw new IllegalArgumentException("scheduling.defaultClass must be one of scheduling.classes " + scheduling.classes());
        }
        if (scheduling.starvationMs() < 1) {
            throw new IllegalArgumentException("scheduling.starvationMs must be >= 1");
        }
        pools.forEach((name, pool) -> {
            LoadMetrics load = pool.loadMetrics();
            if (load != null && (!load.pathOrDefault().startsWith("/") || load.intervalMsOrDefault() < 100
                    || load.staleMsOrDefault() < load.intervalMsOrDefault())) {
                throw new IllegalArgumentException("pools." + name + ".loadMetrics needs a path starting with /, intervalMs >= 100 and staleMs >= intervalMs");
            }
            PrefixRouting prefix = pool.prefix();
            if (prefix != null && (prefix.blockChars() < 16 || prefix.maxBlocks() < 1 || prefix.maxBlocks() > 1_024
                    || prefix.loadFactor() < 1.0 || prefix.blocksPerEndpoint() < 1)) {
                throw new IllegalArgumentException("pools." + name + ".prefix needs blockChars >= 16, maxBlocks 1 to 1024, loadFactor >= 1 and blocksPerEndpoint >= 1");
            }
            if (pool.queueing() != null && !List.of("fair", "fifo").contains(pool.queueing())) {
                throw new IllegalArgumentException("pools." + name + ".queueing must be fair or fifo");
            }
            if (pool.maxQueuedPerTenant() != null && pool.maxQueuedPerTenant() < 1) {
                throw new IllegalArgumentException("pools." + name + ".maxQueuedPerTenant must be >= 1");
            }
            PriorityHint hint = pool.priority();
            if (hint == null) {
                return;
            }
            if ((hint.field() == null) == (hint.header() == null)) {
                throw new IllegalArgumentException("pools." + name + ".priority needs either a field or a header");
            }
            if (!hint.values().keySet().equals(Set.copyOf(scheduling.classes()))) {
                throw new IllegalArgumentException("pools." + name + ".priority.values must give a value for each class "
                        + scheduling.classes() + ", was " + hint.values().keySet());
            }
        });
    }

    private static boolean notPositive(Long value) {
        return value != null && value <= 0;
    }
}
