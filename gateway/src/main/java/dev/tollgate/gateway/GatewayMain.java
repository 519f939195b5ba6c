package dev.tollgate.gateway;

import dev.tollgate.gateway.auth.ClientAddresses;
import dev.tollgate.gateway.fleet.Heartbeats;
import dev.tollgate.gateway.http.GatewayServer;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.proxy.StreamProgress;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.UpstreamWatcher;
import dev.tollgate.telemetry.Telemetry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the gateway. Configuration from the environment: {@code TOLLGATE_GATEWAY_PORT} (8080),
 * {@code TOLLGATE_GATEWAY_REPLICAS} (1: the fleet size each replica assumes while it does not hear the
 * fleet's heartbeats; set it to the autoscaler's maximum, ADR 0020), {@code HOSTNAME} (this replica's id),
 * {@code TOLLGATE_TRUSTED_PROXIES} (none: comma-separated CIDR ranges of the proxies, e.g. the ingress, whose
 * {@code X-Forwarded-For} names the client for authentication throttling; they are also exempt from the idle
 * connection cap), {@code TOLLGATE_MAX_IDLE_CONNECTIONS_PER_ADDRESS} (512: idle connections one client
 * address may hold; its oldest are closed beyond that), {@code TOLLGATE_GATEWAY_EVENT_LOOPS} (the available
 * processors: event loops serving requests, each with its own server on the port and its own upstream client, ADR 0025),
 * {@code TOLLGATE_STREAM_PROGRESS_MS} and {@code TOLLGATE_STREAM_PROGRESS_TOKENS} (1000 and 256: how often a stream's
 * {@code tokens.streamed} event goes out, {@code StreamProgress}),
 * {@code TOLLGATE_KAFKA_BOOTSTRAP} (127.0.0.1:9092), {@code TOLLGATE_UPSTREAMS} (path of the
 * upstream YAML file; required), {@code TOLLGATE_SPOOL_DIR} (./spool), {@code TOLLGATE_UPLOADS_DIR} (where audio uploads are
 * spooled while their request runs; the temp directory's {@code tollgate-uploads}), {@code TOLLGATE_SPOOL_FAIL_CLOSED}
 * (false). A bad value fails start-up naming the variable. Logging: JSON lines on stdout
 * ({@code TOLLGATE_LOG_FORMAT}, {@code TOLLGATE_LOG_LEVEL}; {@code LOGGING_CONFIG} names a logback file
 * that is re-read while running, for level changes). Tracing: the standard {@code OTEL_*} variables
 * ({@code OTEL_EXPORTER_OTLP_ENDPOINT} turns export on; ADR 0012).
 */
public final class GatewayMain {
    private GatewayMain() {}

    /** Every environment variable the gateway reads (the deployment manifests are checked against this list). */
    public static final List<String> ENVIRONMENT = List.of("TOLLGATE_GATEWAY_PORT", "TOLLGATE_UPSTREAMS",
            "TOLLGATE_KAFKA_BOOTSTRAP", "HOSTNAME", "TOLLGATE_SPOOL_DIR", "TOLLGATE_SPOOL_FAIL_CLOSED", "TOLLGATE_GATEWAY_REPLICAS",
            "LOGGING_CONFIG", "TOLLGATE_LOG_FORMAT", "TOLLGATE_LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME",
            "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_RESOURCE_ATTRIBUTES", "TOLLGATE_TRUSTED_PROXIES",
            "TOLLGATE_MAX_IDLE_CONNECTIONS_PER_ADDRESS", "TOLLGATE_GATEWAY_EVENT_LOOPS", "TOLLGATE_STREAM_PROGRESS_MS",
            "TOLLGATE_STREAM_PROGRESS_TOKENS", "TOLLGATE_UPLOADS_DIR");

    public static void main(String[] args) throws Exception {
        String loggingConfig = System.getenv("LOGGING_CONFIG");
        if (loggingConfig != null && !loggingConfig.isBlank()) {
            // Before the first logger exists: logback reads it once, then rescans the file if it says scan="true".
            System.setProperty("logback.configurationFile", loggingConfig);
        }
        int port = Integer.parseInt(env("TOLLGATE_GATEWAY_PORT", "8080"));
        String upstreamFile = System.getenv("TOLLGATE_UPSTREAMS");
        if (upstreamFile == null || upstreamFile.isBlank()) {
            throw new IllegalArgumentException("TOLLGATE_UPSTREAMS must name the upstream YAML file");
        }
        int eventLoops = Integer.parseInt(env("TOLLGATE_GATEWAY_EVENT_LOOPS", Integer.toString(GatewayServer.defaultEventLoops())));
        var openTelemetry = Telemetry.start("tollgate-gateway");
        // At least one event loop per serving loop (Vert.x's default is twice the processors).
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE, eventLoops)));
        UpstreamWatcher upstreams = UpstreamWatcher.start(vertx, Path.of(upstreamFile), 2_000);
        StateDirectory state = StateDirectory.start(env("TOLLGATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"));
        var usage = new UsageEmitter(env("TOLLGATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), env("HOSTNAME", "gateway-0"),
                Path.of(env("TOLLGATE_SPOOL_DIR", "spool")), Spool.Options.DEFAULT,
                Boolean.parseBoolean(env("TOLLGATE_SPOOL_FAIL_CLOSED", "false")), openTelemetry);
        var heartbeats = Heartbeats.start(env("TOLLGATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), env("HOSTNAME", "gateway-0"),
                Integer.parseInt(env("TOLLGATE_GATEWAY_REPLICAS", "1")), Heartbeats.DEFAULT_INTERVAL, Clock.systemUTC());
        var limits = new RateLimits(heartbeats, System::nanoTime);
        heartbeats.serve(limits);
        var clients = ClientAddresses.trusting(List.of(env("TOLLGATE_TRUSTED_PROXIES", "").split(",")));
        int maxIdle = Integer.parseInt(env("TOLLGATE_MAX_IDLE_CONNECTIONS_PER_ADDRESS", "512"));
        new GatewayServer(vertx, state, upstreams, usage, limits).trustProxies(clients).capIdleConnections(maxIdle).monitor(heartbeats)
                .eventLoops(eventLoops)
                .uploadsDirectory(Path.of(env("TOLLGATE_UPLOADS_DIR", Path.of(System.getProperty("java.io.tmpdir"), "tollgate-uploads").toString())))
                .streamProgress(new StreamProgress(Long.parseLong(env("TOLLGATE_STREAM_PROGRESS_MS", Long.toString(StreamProgress.DEFAULT.intervalMs()))),
                        Long.parseLong(env("TOLLGATE_STREAM_PROGRESS_TOKENS", Long.toString(StreamProgress.DEFAULT.tokens())))))
                .listen("0.0.0.0", port)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        System.out.println("Tollgate gateway listening on port " + port + " on " + eventLoops + " event loops; models " + upstreams.get().config().modelNames());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            vertx.close();
            heartbeats.close();
            state.close();
            usage.close();
            openTelemetry.close();
        }, "gateway-stop"));
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
