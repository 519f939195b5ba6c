package dev.tollgate.gateway.metrics;

import dev.tollgate.gateway.fleet.Heartbeats;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.EndpointPool;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The gateway's Prometheus metrics ({@code GET /metrics}). Names follow the OpenTelemetry GenAI
 * semantic conventions where they exist ({@code gen_ai.server.request.duration},
 * {@code gen_ai.server.time_to_first_token}, {@code gen_ai.server.time_per_output_token},
 * {@code gen_ai.client.token.usage}); labels are bounded: the model (only configured models reach
 * here), the operation, the status code, the token type, the pool and endpoint names of the
 * upstream file. Never a tenant or key id.
 */
public final class GatewayMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Supplier<EndpointPool> pools;
    private final MultiGauge outstanding;
    private final MultiGauge healthy;
    private final MultiGauge queued;

    /** Gauge {@code tollgate_gateway_fleet_replicas}: the live gateways this one shares every limit with (ADR 0020). */
    public void fleet(RateLimits limits) {
        Gauge.builder("tollgate.gateway.fleet.replicas", limits, RateLimits::replicas)
                .description("gateway replicas this one counts as live; its rate-limit and budget shares follow it").register(registry);
    }

    /** Counter {@code tollgate_gateway_heartbeat_failures_total}: fleet heartbeats that failed (each is retried the next interval). */
    public void heartbeats(Heartbeats heartbeats) {
        FunctionCounter.builder("tollgate.gateway.heartbeat.failures", heartbeats, Heartbeats::failures)
                .description("fleet heartbeat sends and reads that failed; the fleet view ages out towards the configured size")
                .register(registry);
    }

    public GatewayMetrics(Supplier<EndpointPool> pools, UsageEmitter usage) {
        this(pools, usage, null);
    }

    /** @param state the ledger-state consumer, whose lag and fetch metrics are exported too (null for none) */
    public GatewayMetrics(Supplier<EndpointPool> pools, UsageEmitter usage, StateDirectory state) {
        this.pools = pools;
        usage.bindTo(registry);
        if (state != null) {
            state.bindTo(registry);
            FunctionCounter.builder("tollgate.gateway.state.reader.restarts", state, StateDirectory::restarts)
                    .description("times the state reader failed and was restarted (Kafka unreachable, a broken poll)").register(registry);
        }
        for (String reason : List.of("missing_api_key", "invalid_api_key", "tenant_suspended", "throttled")) {
            authFailure(reason, 0);
        }
        for (String kind : List.of("rpm", "tpm", "concurrency", "budget")) {
            refusal(kind, 0); // every kind has a series from the start, so that rates and alerts read 0, not nothing
        }
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        outstanding = MultiGauge.builder("tollgate.gateway.upstream.outstanding").description("requests in flight per endpoint")
                .register(registry);
        healthy = MultiGauge.builder("tollgate.gateway.upstream.healthy").description("1 if the endpoint is in rotation").register(registry);
        queued = MultiGauge.builder("tollgate.gateway.upstream.queued").description("requests waiting for an endpoint of the pool")
                .register(registry);
        Gauge.builder("tollgate.gateway.spool.pending", usage, UsageEmitter::pendingBytes).baseUnit("bytes")
                .description("usage events spooled and not yet acknowledged by Kafka").register(registry);
        Gauge.builder("tollgate.gateway.usage.lost", usage, UsageEmitter::lostEvents)
                .description("usage events refused by a full spool (fail-open mode); should stay 0").register(registry);
        Gauge.builder("tollgate.gateway.spool.disk.failing", usage, emitter -> emitter.spoolDiskFailing() ? 1 : 0)
                .description("1 while the spool's disk refuses writes (full?): fail-open loses events, fail-closed refuses requests")
                .register(registry);
    }

    /** One finished request (or a refusal, with its status); {@code tier} is the tenant's plan, never its id. */
    public void request(String model, String operation, String tier, int status, long nanos) {
        Timer.builder("gen_ai.server.request.duration").description("from request to last byte")
                .tags("gen_ai.request.model", model, "gen_ai.operation.name", operation, "http.response.status_code", Integer.toString(status),
                        "tollgate.tenant.tier", tier)
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofMinutes(5)).register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void timeToFirstToken(String model, long millis) {
        Timer.builder("gen_ai.server.time_to_first_token").tags("gen_ai.request.model", model).publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofMinutes(1)).register(registry).record(Duration.ofMillis(millis));
    }

    /** Per model, looked up once: this one is recorded for every streamed chunk, on the event loop. */
    private final Map<String, Timer> perToken = new ConcurrentHashMap<>();

    /** The time between two streamed chunks. */
    public void timePerOutputToken(String model, long nanos) {
        perToken.computeIfAbsent(model, m -> Timer.builder("gen_ai.server.time_per_output_token").tags("gen_ai.request.model", m)
                        .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
                        .maximumExpectedValue(Duration.ofSeconds(10)).register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void tokens(String model, String type, long count) {
        if (count > 0) {
            DistributionSummary.builder("gen_ai.client.token.usage").baseUnit("tokens")
                    .tags("gen_ai.request.model", model, "gen_ai.token.type", type).register(registry).record(count);
        }
    }

    /** A refused authentication: missing or invalid key, suspended tenant, or throttled after too many failures. */
    public void authFailure(String reason) {
        authFailure(reason, 1);
    }

    private void authFailure(String reason, int count) {
        Counter.builder("tollgate.gateway.auth.failures").description("requests refused at authentication, by reason")
                .tags("reason", reason).register(registry).increment(count);
    }

    /** A request answered 429 because its key or address had too many requests refused as invalid lately. */
    public void refusalThrottled() {
        Counter.builder("tollgate.gateway.requests.refusals.throttled")
                .description("requests answered 429 after too many invalid requests from their key or address").register(registry).increment();
    }

    /** An idle connection closed because its client address held more idle connections than allowed. */
    public void idleConnectionCapped() {
        Counter.builder("tollgate.gateway.connections.idle.capped")
                .description("idle connections closed because their client address held too many").register(registry).increment();
    }

    /** A connection closed for not sending its request head in time. */
    public void slowBodyRefused() {
        Counter.builder("tollgate.gateway.requests.slow.body").description("requests answered 408 for a body too slow to arrive")
                .register(registry).increment();
    }

    public void slowClientClosed() {
        Counter.builder("tollgate.gateway.connections.slow.closed").description("connections closed for a request head too slow to arrive")
                .register(registry).increment();
    }

    /** A 403: an endpoint outside the key's scopes ({@code insufficient_scope}) or a model without a price ({@code model_not_priced}). */
    public void permissionRefusal(String code) {
        Counter.builder("tollgate.gateway.permission.refusals").description("requests refused with 403 by reason")
                .tags("code", code).register(registry).increment();
    }

    private final Map<String, Timer> queueTimes = new ConcurrentHashMap<>();

    /**
     * How long a request of {@code priorityClass} waited for an endpoint's capacity (0 when it got one at
     * once). By class only: the classes are configured and few; tenants are not a label.
     */
    public void queueTime(String priorityClass, long nanos) {
        queueTimes.computeIfAbsent(priorityClass, c -> Timer.builder("tollgate.gateway.queue.time")
                .description("time waiting for an endpoint with capacity, by scheduling class").tags("class", c)
                .publishPercentileHistogram().register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A request that found no capacity: its class, and queue_full, tenant_queue_full, shed or timed_out. */
    public void capacityRefusal(String priorityClass, String reason) {
        Counter.builder("tollgate.gateway.capacity.refusals").description("requests refused for lack of upstream capacity")
                .tags("class", priorityClass, "reason", reason).register(registry).increment();
    }

    /** A 429 of the gateway: rpm, tpm, concurrency, or a budget. */
    public void refusal(String kind) {
        refusal(kind, 1);
    }

    private void refusal(String kind, int count) {
        Counter.builder("tollgate.gateway.quota.refusals").description("requests refused with 429 by kind of limit")
                .tags("kind", kind).register(registry).increment(count);
    }

    /** The Prometheus text exposition, with the upstream gauges read now. */
    public String scrape() {
        EndpointPool pool = pools.get();
        var outstandingRows = new ArrayList<MultiGauge.Row<?>>();
        var healthyRows = new ArrayList<MultiGauge.Row<?>>();
        var queuedRows = new ArrayList<MultiGauge.Row<?>>();
        for (String name : pool.config().pools().keySet()) {
            List<EndpointPool.Slot> slots = pool.slots(name);
            for (int i = 0; i < slots.size(); i++) {
                EndpointPool.Slot slot = slots.get(i);
                // The endpoint's position in its pool, not its URL: /metrics is public, upstream addresses are not.
                Tags tags = Tags.of("pool", name, "endpoint", name + "/" + i);
                outstandingRows.add(MultiGauge.Row.of(tags, slot.outstanding()));
                healthyRows.add(MultiGauge.Row.of(tags, slot.healthy() ? 1 : 0));
            }
            queuedRows.add(MultiGauge.Row.of(Tags.of("pool", name), pool.queued(name)));
        }
        outstanding.register(outstandingRows, true);
        healthy.register(healthyRows, true);
        queued.register(queuedRows, true);
        return registry.scrape();
    }
}
