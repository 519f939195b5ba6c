package dev.tollgate.gateway.http;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.net.TcpProxy;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The network between the gateway and Kafka partitions, rather than Kafka stopping: nothing is
 * refused, bytes just vanish, so every client of the gateway's (producer, state consumer) hangs until
 * its own timeouts. First both directions are cut, then only the broker's answers — the case where the
 * broker has appended a batch the producer never hears about and sends again — then a partition that
 * holds the bytes and heals with the connections open ({@code Cut.HOLD}). Each cut lasts 20 s
 * under load; the gateway must keep serving from memory, and afterwards every usage event must be on
 * {@code usage.v1} exactly once, by event id.
 */
class KafkaPartitionIT {
    private static final Duration CUT = Duration.ofSeconds(20);
    private static final String BODY = "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";

    @Test
    void partitionsBetweenGatewayAndKafkaLoseAndDuplicateNoUsageEvent(@TempDir Path temp) throws Exception {
        int externalPort;
        try (var socket = new ServerSocket(0)) {
            externalPort = socket.getLocalPort();
        }
        try (TcpProxy proxy = TcpProxy.start(externalPort);
             EmbeddedKafka kafka = EmbeddedKafka.start(temp.resolve("kafka"), 0, false, externalPort, proxy.port());
             FakeUpstream upstream = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT.withCompletionTokens(4))) {
            ApiKeys.NewKey key = TestGateway.publishTenantWithKey(kafka.bootstrapServers(), "partitioned");
            var config = UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\nmodels: {fake-chat: {pool: p}}\n");
            try (TestGateway gateway = TestGateway.start(proxy.address(), config)) { // all of the gateway's Kafka traffic crosses the proxy
                var http = HttpClient.newHttpClient();
                var request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                        .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
                int served = 0;
                for (int i = 0; i < 10; i++) {
                    assertThat(http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
                    served++;
                }
                List<String> phases = new ArrayList<>();
                for (TcpProxy.Cut cut : TcpProxy.Cut.values()) {
                    proxy.partition(cut);
                    long cutStart = System.nanoTime();
                    int during = 0;
                    long slowestMs = 0;
                    while (System.nanoTime() - cutStart < CUT.toNanos()) {
                        long sent = System.nanoTime();
                        assertThat(http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode())
                                .as("served during the partition (%s)", cut).isEqualTo(200);
                        slowestMs = Math.max(slowestMs, (System.nanoTime() - sent) / 1_000_000);
                        during++;
                        Thread.sleep(100);
                    }
                    long pendingAtHeal = gateway.usage().pendingBytes();
                    assertThat(pendingAtHeal).as("events wait in the spool while Kafka is out of reach (%s)", cut).isPositive();
                    proxy.heal();
                    long healed = System.nanoTime();
                    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> gateway.usage().pendingBytes() == 0);
                    phases.add("%s cut %d s: %d requests served (slowest %d ms), %d bytes spooled, delivered %.1f s after the heal".formatted(
                            cut, CUT.toSeconds(), during, slowestMs, pendingAtHeal, (System.nanoTime() - healed) / 1e9));
                    served += during;
                }

                List<String> ids = TopicReader.readAll(kafka.bootstrapServers(), Topics.USAGE.name()).stream()
                        .map(r -> EventCodec.decode(r.value())).filter(e -> e.tenantid().equals("partitioned"))
                        .map(CloudEvent::id).toList();
                long distinct = ids.stream().distinct().count();
                System.out.printf("[fault] gateway-Kafka network partitioned | %s | %d requests, %d events expected, %d on usage.v1, %d distinct, "
                        + "%d lost, %d duplicated%n", String.join(" | ", phases), served, 2 * served, ids.size(), distinct,
                        2L * served - distinct, ids.size() - distinct);
                assertThat(distinct).as("accepted + completed of every request, none lost").isEqualTo(2L * served);
                assertThat(ids).as("none on the topic twice: the producer's retries are deduplicated by the broker").doesNotHaveDuplicates();
                assertThat(gateway.usage().lostEvents()).isZero();
            }
        }
    }
}
