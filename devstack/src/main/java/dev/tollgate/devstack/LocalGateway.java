package dev.tollgate.devstack;

import dev.tollgate.gateway.fleet.FleetView;
import dev.tollgate.gateway.fleet.Heartbeats;
import dev.tollgate.gateway.http.GatewayServer;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.telemetry.Telemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** The gateway, run inside the dev stack's JVM in front of the fake upstream. */
final class LocalGateway implements AutoCloseable {
    private final Vertx vertx;
    private final StateDirectory state;
    private final UsageEmitter usage;
    private final Heartbeats heartbeats;
    private final int port;
    private final OpenTelemetrySdk openTelemetry;

    private LocalGateway(Vertx vertx, StateDirectory state, UsageEmitter usage, Heartbeats heartbeats, int port,
                         OpenTelemetrySdk openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.heartbeats = heartbeats;
        this.vertx = vertx;
        this.state = state;
        this.usage = usage;
        this.port = port;
    }

    /** The upstream configuration routing {@code models} to the fake upstream at {@code upstreamUrl}. */
    static UpstreamConfig fakeUpstreams(String upstreamUrl, List<String> models) {
        String modelRoutes = models.stream().map(m -> m + ": {pool: fake}").collect(Collectors.joining(", "));
        return UpstreamConfig.parse("pools: {fake: {endpoints: [{url: \"" + upstreamUrl + "\"}]}}\n"
                + "models: {" + modelRoutes + "}\n");
    }

    static LocalGateway start(int port, String kafkaBootstrap, UpstreamConfig config, Path spoolDir)
            throws Exception {
        return start(port, kafkaBootstrap, config, spoolDir, "dev-gateway", 1);
    }

    /**
     * One gateway of a fleet sharing every limit, named {@code name} in its events' source and its
     * heartbeats; {@code replicas} is the fleet size it assumes until it hears the heartbeats.
     */
    static LocalGateway start(int port, String kafkaBootstrap, UpstreamConfig config, Path spoolDir, String name,
                              int replicas) throws Exception {
        StateDirectory state = StateDirectory.start(kafkaBootstrap);
        var openTelemetry = Telemetry.start("tollgate-gateway");
        UsageEmitter usage = new UsageEmitter(kafkaBootstrap, name, spoolDir, Spool.Options.DEFAULT, false, openTelemetry);
        Vertx vertx = Vertx.vertx();
        var heartbeats = Heartbeats.start(kafkaBootstrap, name, replicas, Heartbeats.DEFAULT_INTERVAL, Clock.systemUTC());
        var limits = new RateLimits(heartbeats, System::nanoTime);
        heartbeats.serve(limits);
        var pool = new EndpointPool(config);
        int actual = new GatewayServer(vertx, state, () -> pool, usage, limits).monitor(heartbeats).listen("127.0.0.1", port)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).actualPort();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!state.ready() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return new LocalGateway(vertx, state, usage, heartbeats, actual, openTelemetry);
    }

    /** The fleet as this gateway last heard it. */
    FleetView fleet() {
        return heartbeats.get();
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        heartbeats.close();
        state.close();
        usage.close();
        openTelemetry.close();
    }
}
