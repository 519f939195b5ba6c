package dev.tollgate.gateway.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.util.function.Supplier;

/**
 * Active health checks: for every pool with a {@code healthCheck}, {@code GET path} on each endpoint
 * every {@code intervalMs} (timeout: the interval); a 2xx answer marks it healthy, anything else or
 * no answer takes it out of rotation until a check passes again.
 */
public final class HealthChecker {
    private HealthChecker() {}

    /** Starts checking the endpoints that {@code pools} holds at each tick (so reloads are followed). */
    public static void start(Vertx vertx, HttpClient client, Supplier<EndpointPool> pools, long tickMs) {
        vertx.setPeriodic(tickMs, id -> {
            EndpointPool pool = pools.get();
            pool.config().pools().forEach((name, config) -> {
                if (config.healthCheck() == null) {
                    return;
                }
                for (EndpointPool.Slot slot : pool.slots(name)) {
                    if (slot.checkDue(config.healthCheck().intervalMs())) {
                        check(client, slot, config.healthCheck());
                    }
                }
            });
        });
    }

    private static void check(HttpClient client, EndpointPool.Slot slot, UpstreamConfig.HealthCheck check) {
        client.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(slot.url() + check.path())
                        .setTimeout(check.intervalMs()))
                .compose(request -> request.send())
                .onSuccess(response -> {
                    slot.checked(response.statusCode() / 100 == 2);
                    response.body();
                })
                .onFailure(error -> slot.checked(false));
    }
}
