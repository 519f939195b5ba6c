package dev.tollgate.gateway.http;

import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.RequestRejected;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A gateway on four event loops (ADR 0025), 240 requests at once from 48 clients of one
 * tenant limited to 40 requests a minute: the loops share one rate limit, so exactly the admitted
 * requests (40, plus what the bucket refills while the burst lasts) reach the model server, and every
 * request has exactly one terminal usage event, none lost and none twice.
 */
@ExtendWith(KafkaExtension.class)
class EventLoopsIT {
    private static final int REQUESTS = 240;
    private static final int CLIENTS = 48;
    private static final long PER_MINUTE = 40;

    @Test
    void loopsShareTheLimitsAndMeterEveryRequestOnce(EmbeddedKafka kafka) throws Exception {
        String tenant = "loops-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey key = TestGateway.publishTenantWithKey(kafka.bootstrapServers(), tenant, new Limits(PER_MINUTE, 10_000_000L, null, null, null, null));
        try (var upstream = FakeUpstream.start(0, List.of("m"), FakeBehaviour.DEFAULT);
             var gateway = TestGateway.start(kafka.bootstrapServers(), UpstreamConfig.parse(
                     "pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\", maxConcurrency: 512}]}}\nmodels: {m: {pool: p}}\n"),
                     Spool.Options.DEFAULT, Files.createTempDirectory("spool"), false, 4)) {
            assertThat(gateway.servingThreads()).as("four loops, each on its own thread").hasSize(4);
            var request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                    .build();
            // 48 clients, each with its own connections, all sending at once: the gateway spreads connections over its loops.
            List<HttpClient> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build());
            }
            long started = System.nanoTime();
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                answers.add(clients.get(i % CLIENTS).sendAsync(request, HttpResponse.BodyHandlers.ofString()));
            }
            CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get();
            double seconds = (System.nanoTime() - started) / 1e9;
            long ok = answers.stream().filter(a -> a.join().statusCode() == 200).count();
            long refused = answers.stream().filter(a -> a.join().statusCode() == 429).count();

            assertThat(ok + refused).as("every answer is a 200 or a 429").isEqualTo(REQUESTS);
            assertThat(ok).as("the limit, plus at most what refilled during the burst (%.1f s)", seconds)
                    .isBetween(PER_MINUTE, PER_MINUTE + (long) Math.ceil(seconds * PER_MINUTE / 60.0) + 1);
            assertThat(upstream.requests()).as("exactly the admitted requests reached the model server").hasSize((int) ok);

            await().atMost(Duration.ofSeconds(30)).until(() -> events(kafka, tenant).size() >= ok * 2 + refused);
            Thread.sleep(500); // anything counted twice would arrive now
            List<CloudEvent<EventData>> events = events(kafka, tenant);
            Set<String> accepted = new HashSet<>();
            Set<String> finished = new HashSet<>();
            Set<String> rejected = new HashSet<>();
            Set<String> ids = new HashSet<>();
            for (CloudEvent<EventData> event : events) {
                assertThat(ids.add(event.id())).as("event id %s once", event.id()).isTrue();
                switch (event.data()) {
                    case RequestAccepted a -> assertThat(accepted.add(a.requestId())).as("accepted once: %s", a.requestId()).isTrue();
                    case RequestFinished f -> {
                        assertThat(event.type()).isEqualTo(EventType.USAGE_REQUEST_COMPLETED.typeName());
                        assertThat(finished.add(f.requestId())).as("finished once: %s", f.requestId()).isTrue();
                    }
                    case RequestRejected r -> assertThat(rejected.add(r.requestId())).as("rejected once: %s", r.requestId()).isTrue();
                    default -> { }
                }
            }
            assertThat(accepted).hasSize((int) ok).isEqualTo(finished);
            assertThat(rejected).hasSize((int) refused).doesNotContainAnyElementsOf(accepted);
            clients.forEach(HttpClient::close);
        }
    }

    private static List<CloudEvent<EventData>> events(EmbeddedKafka kafka, String tenant) {
        return TopicReader.readAll(kafka.bootstrapServers(), Topics.USAGE.name()).stream()
                .map(r -> EventCodec.decode(r.value())).filter(e -> tenant.equals(e.tenantid()))
                .filter(e -> e.data() instanceof RequestAccepted || e.data() instanceof RequestFinished || e.data() instanceof RequestRejected)
                .toList();
    }
}
