package dev.tollgate.projector.alert;

import com.sun.net.httpserver.HttpServer;
import dev.tollgate.service.webhook.WebhookTargets.HostResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Webhook delivery connects only to the addresses it vetted (issue #19 item 11: DNS rebinding). */
class WebhookSenderTest {
    private HttpServer receiver;
    private final List<String> received = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startReceiver() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", exchange -> {
            received.add(exchange.getRequestHeaders().getFirst("Host") + " " + exchange.getRequestHeaders().getFirst("X-Tollgate-Event-Id"));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterEach
    void stopReceiver() {
        receiver.stop(0);
    }

    private String url() {
        return "http://hooks.rebind.example:" + receiver.getAddress().getPort() + "/hook";
    }

    @Test
    void aNameThatAnswersPublicThenLoopbackIsResolvedOnceAndNeverReachesLoopback() throws Exception {
        var lookups = new AtomicInteger();
        HostResolver rebinding = host -> lookups.getAndIncrement() == 0
                ? new InetAddress[]{InetAddress.getByName("93.184.215.14")} : new InetAddress[]{InetAddress.getLoopbackAddress()};
        try (var sender = new WebhookSender(false, rebinding, Duration.ofSeconds(1), Duration.ofSeconds(2))) {
            WebhookSender.Outcome outcome = sender.post(url(), Map.of("X-Tollgate-Event-Id", "a1"), "{}");
            assertThat(outcome.status()).as("the public address it vetted is not reachable from here").isNull();
            assertThat(outcome.refused()).isFalse();
            assertThat(lookups).as("one lookup, used for the connection").hasValue(1);
            // The retry looks the name up again: now it answers loopback, which is refused before any connection.
            WebhookSender.Outcome retry = sender.post(url(), Map.of("X-Tollgate-Event-Id", "a1"), "{}");
            assertThat(retry.refused()).isTrue();
            assertThat(retry.error()).contains("127.0.0.1").contains("loopback");
        }
        assertThat(received).as("nothing reached the loopback receiver").isEmpty();
    }

    @Test
    void literalAndSpecialUseTargetsAreRefusedWithoutALookup() throws Exception {
        HostResolver none = host -> {
            throw new AssertionError("no lookup expected for " + host);
        };
        try (var sender = new WebhookSender(false, none, Duration.ofSeconds(1), Duration.ofSeconds(2))) {
            for (String url : List.of("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook", "http://[::ffff:7f00:1]/hook",
                    "http://localhost./hook", "http://0x7f000001/hook", "http://[64:ff9b::a9fe:a9fe]/hook")) {
                assertThat(sender.post(url, Map.of(), "{}").refused()).as(url).isTrue();
            }
        }
        assertThat(received).isEmpty();
    }

    @Test
    void theConnectionGoesToTheResolvedAddressWithTheUrlsHostName() throws Exception {
        HostResolver toLoopback = host -> new InetAddress[]{InetAddress.getLoopbackAddress()};
        try (var sender = new WebhookSender(true, toLoopback, Duration.ofSeconds(1), Duration.ofSeconds(2))) {
            WebhookSender.Outcome outcome = sender.post(url(), Map.of("X-Tollgate-Event-Id", "a2"), "{}");
            assertThat(outcome.status()).isEqualTo(204);
        }
        assertThat(received).containsExactly("hooks.rebind.example:" + receiver.getAddress().getPort() + " a2");
    }
}
