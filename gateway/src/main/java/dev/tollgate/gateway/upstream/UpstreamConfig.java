package dev.tollgate.gateway.upstream;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The upstream file: public model names mapped to pools of OpenAI-compatible endpoints.
 *
 * <pre>
 * pools:
 *   local:
 *     credential: ${ENV_VAR}            # optional bearer sent upstream (never the tenant's key)
 *     policy: least-outstanding         # or power-of-two, or affinity (consistent hash on a session or prompt prefix)
 *     ejection: {afterFailures: 3, forMs: 10000}     # passive ejection / circuit breaking
 *     healthCheck: {path: /health, intervalMs: 5000}  # optional active checks
 *     timeouts: {connectMs: 2000, firstByteMs: 30000, idleMs: 60000}
 *     endpoints:
 *       - {url: http://127.0.0.1:8000, weight: 1, maxConcurrency: 256, maxQueued: 64}
 * models:
 *   fake-chat: {pool: local}
 *   chat-large: {pool: local, upstreamModel: meta-llama/Llama-3.1-70B-Instruct}
 * </pre>
 * A bad file fails with a message naming the offending key.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record UpstreamConfig(Map<String, Pool> pools, Map<String, ModelRoute> models) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * @param policy         {@code least-outstanding} (default), {@code power-of-two} or {@code affinity}
     * @param affinityHeader for {@code affinity}: the request header naming a session (default
     *                       {@code x-session-id}); without it the prompt's first 256 characters are the key
     */
    public record Pool(String credential, Timeouts timeouts, List<Endpoint> endpoints, String policy, String affinityHeader,
                       Ejection ejection, HealthCheck healthCheck) {
        public static final List<String> POLICIES = List.of("least-outstanding", "power-of-two", "affinity");

        public Ejection ejectionOrDefault() {
            return ejection == null ? Ejection.DEFAULT : ejection;
        }

        public String policyOrDefault() {
            return policy == null ? "least-outstanding" : policy;
        }

        public String affinityHeaderOrDefault() {
            return affinityHeader == null ? "x-session-id" : affinityHeader;
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
        validate(pools, models);
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

    private static boolean notPositive(Long value) {
        return value != null && value <= 0;
    }
}
