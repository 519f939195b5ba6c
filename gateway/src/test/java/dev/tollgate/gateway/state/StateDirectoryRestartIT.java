package dev.tollgate.gateway.state;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The state reader never gives up (issue #19 item 13): a gateway started while Kafka is down for
 * longer than one metadata wait (scaled here from 30 s to 1 s) keeps retrying with backoff, counts its
 * restarts, stays live, and becomes ready by itself once Kafka is up. The reader used to end its thread
 * on the first failure and leave the gateway unready for good.
 */
class StateDirectoryRestartIT {
    @Test
    void aGatewayStartedWithKafkaDownBecomesReadyByItselfWhenKafkaComesUp() throws Exception {
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (StateDirectory state = StateDirectory.start("127.0.0.1:" + port, Duration.ofSeconds(1))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> state.restarts() >= 3);
            assertThat(state.ready()).isFalse();
            assertThat(state.live()).as("retrying is progress, not a wedge").isTrue();
            System.out.printf("[state] %d restarts while Kafka was down%n", state.restarts());

            try (EmbeddedKafka kafka = EmbeddedKafka.start(Files.createTempDirectory("state-restart"), port, true)) {
                TestGateway.publish(kafka.bootstrapServers(), new TenantState("late", "Late", TenantState.Status.ACTIVE, null, "UTC", "USD",
                        Limits.NONE, null, null, 1, Instant.now()));
                await().atMost(Duration.ofSeconds(60)).until(() -> state.ready() && state.tenant("late").isPresent());
            }
        }
    }
}
