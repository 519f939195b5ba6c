package dev.tollgate.gateway.fleet;

import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Fleet membership over the in-JVM Kafka (ADR 0020): replicas hear each other, leave, expire, and repay borrowing. */
class HeartbeatsIT {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.startEphemeral();
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    /** A member that reports one subject with a borrowing counter the test moves, and records what it repays. */
    private static final class Member implements FleetMember {
        final AtomicLong borrowed = new AtomicLong();
        final Map<String, Long> repaid = new ConcurrentHashMap<>();

        @Override
        public List<GatewayHeartbeat.Subject> report() {
            return List.of(new GatewayHeartbeat.Subject("t:acme", 120, 6_000, 10, 500, 40, 2_000, borrowed.get()));
        }

        @Override
        public void repay(String subject, long tokens, long lenderShare) {
            assertThat(lenderShare).isEqualTo(2_000);
            repaid.merge(subject, tokens, Long::sum);
        }
    }

    private static Heartbeats start(String name, Member member) {
        Heartbeats heartbeats = Heartbeats.start(kafka.bootstrapServers(), name, 1, INTERVAL, Clock.systemUTC());
        heartbeats.serve(member);
        return heartbeats;
    }

    @Test
    void replicasHearEachOtherAndAStoppingOneLeavesAtOnce() {
        var a = new Member();
        var b = new Member();
        try (Heartbeats first = start("hb-a", a)) {
            Heartbeats second = start("hb-b", b);
            await().atMost(Duration.ofSeconds(20)).until(() -> first.get().size() == 2 && second.get().size() == 2);
            // A replica's first heartbeat may go out before it serves its rate limits (empty): the next one carries them.
            await().atMost(Duration.ofSeconds(10)).until(() -> first.get().reports("t:acme").size() == 1);
            assertThat(first.get().reports("t:acme")).singleElement().satisfies(s -> assertThat(s.tokensPerMinute()).isEqualTo(6_000));

            // What b borrows from now on, a repays (the first heartbeat a heard was the baseline).
            b.borrowed.set(700);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.repaid.getOrDefault("t:acme", 0L) == 700);
            b.borrowed.set(1_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.repaid.getOrDefault("t:acme", 0L) == 1_000);

            long closing = System.nanoTime();
            second.close();
            // The tombstone says it at once: well before five missed intervals (1 s here) would.
            await().atMost(Duration.ofSeconds(10)).until(() -> first.get().size() == 1);
            System.out.printf("[heartbeats] a stopped replica left the fleet after %d ms%n", (System.nanoTime() - closing) / 1_000_000);
            assertThat(first.get().peers()).isEmpty();
        }
    }

    @Test
    void aReplicaThatCannotReachKafkaCountsTheConfiguredFleetAndSoNeverLoosensItsShares() throws Exception {
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (Heartbeats lonely = Heartbeats.start("127.0.0.1:" + port, "hb-lonely", 4, INTERVAL, Clock.systemUTC())) {
            Thread.sleep(1_000);
            assertThat(lonely.get().size()).isEqualTo(4);
            assertThat(lonely.get().peers()).isEmpty();
        }
    }
}
