package dev.tollgate.gateway.upstream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Reads each model server's own load (ADR 0024): for every pool with {@code loadMetrics}, {@code GET path}
 * on each endpoint every {@code intervalMs} (timeout: the interval), with the pool's credential; the
 * answer's gauges become the endpoint's {@link ServerLoad}. A failed read keeps the last report, which
 * goes stale after {@code staleMs} and routing falls back to the gateway's own count.
 */
public final class LoadScraper {
    /** Expositions larger than this are not read (a vLLM exposition is tens of KB). */
    static final int MAX_EXPOSITION_BYTES = 4 * 1024 * 1024;

    private LoadScraper() {}

    /** Starts reading the endpoints that {@code pools} holds at each tick (so reloads are followed). */
    public static void start(Vertx vertx, HttpClient client, Supplier<EndpointPool> pools, long tickMs) {
        vertx.setPeriodic(tickMs, id -> {
            EndpointPool pool = pools.get();
            pool.config().pools().forEach((name, config) -> {
                UpstreamConfig.LoadMetrics metrics = config.loadMetricsOrDefault();
                if (metrics == null) {
                    return;
                }
                for (EndpointPool.Slot slot : pool.slots(name)) {
                    if (slot.loadReadDue(metrics.intervalMsOrDefault())) {
                        read(client, slot, config, metrics);
                    }
                }
            });
        });
    }

    private static void read(HttpClient client, EndpointPool.Slot slot, UpstreamConfig.Pool pool, UpstreamConfig.LoadMetrics metrics) {
        var options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(slot.url() + metrics.pathOrDefault())
                .setTimeout(metrics.intervalMsOrDefault());
        if (pool.credential() != null && !pool.credential().isBlank()) {
            options.putHeader("authorization", "Bearer " + pool.credential());
        }
        client.request(options)
                .compose(request -> request.send())
                .compose(response -> {
                    String length = response.getHeader("content-length");
                    if (response.statusCode() != 200 || length != null && Long.parseLong(length) > MAX_EXPOSITION_BYTES) {
                        response.request().reset();
                        return Future.failedFuture("status " + response.statusCode());
                    }
                    return response.body();
                })
                .onSuccess(body -> {
                    ServerLoad load = ServerLoad.parse(body.toString(StandardCharsets.UTF_8), metrics, System.nanoTime());
                    if (load != null) {
                        slot.reported(load);
                    }
                });
    }
}
