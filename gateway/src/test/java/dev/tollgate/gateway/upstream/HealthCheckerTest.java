package dev.tollgate.gateway.upstream;

import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class HealthCheckerTest {

    @Test
    void anEndpointThatStopsAnsweringItsHealthCheckLeavesRotationAndComesBack() throws Exception {
        Vertx vertx = Vertx.vertx();
        var up = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT);
        var down = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT);
        int downPort = down.port();
        try {
            EndpointPool pool = new EndpointPool(UpstreamConfig.parse("""
                    pools: {p: {healthCheck: {path: /health, intervalMs: 500}, endpoints: [{url: "%s"}, {url: "%s"}]}}
                    models: {m: {pool: p}}
                    """.formatted(up.baseUrl(), down.baseUrl())));
            HealthChecker.start(vertx, vertx.createHttpClient(), () -> pool, 50);
            EndpointPool.Slot downSlot = pool.slots("p").get(1);
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.slots("p").stream().allMatch(EndpointPool.Slot::healthy));

            down.close();

            await().atMost(Duration.ofSeconds(5)).until(() -> !downSlot.healthy());
            for (int i = 0; i < 10; i++) {
                EndpointPool.Lease lease = pool.acquire("m").orElseThrow();
                assertThat(lease.slot()).isNotSameAs(downSlot);
            }
            down = FakeUpstream.start(downPort, List.of("m"), FakeBehaviour.DEFAULT);
            await().atMost(Duration.ofSeconds(5)).until(downSlot::healthy);
        } finally {
            vertx.close();
            up.close();
            down.close();
        }
    }
}
