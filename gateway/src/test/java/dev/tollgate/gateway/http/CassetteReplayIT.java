package dev.tollgate.gateway.http;

import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.CassetteUpstream;
import dev.tollgate.testkit.upstream.Cassettes;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real recorded OpenAI and Anthropic responses, served byte for byte by a replaying upstream, must reach the client
 * byte for byte through the gateway: bodies, error bodies and SSE streams alike, except a usage-only
 * chunk the client did not ask for; and what they bill is exactly what their servers counted.
 */
@ExtendWith(KafkaExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CassetteReplayIT {
    private final String tenant = "cassette-" + UUID.randomUUID().toString().substring(0, 8);
    private final ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
    private StateDirectory state;
    private String bootstrap;

    @BeforeAll
    void keys(EmbeddedKafka kafka) throws Exception {
        bootstrap = kafka.bootstrapServers();
        Instant now = Instant.now();
        TestGateway.publish(bootstrap, new TenantState(tenant, "C", TenantState.Status.ACTIVE, null, "UTC", "USD", Limits.NONE, null, null, 1, now));
        TestGateway.publish(bootstrap, new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        state = StateDirectory.start(bootstrap);
        await().atMost(Duration.ofSeconds(30)).until(state::ready);
    }

    @AfterAll
    void stop() {
        state.close();
    }

    /** Sends the cassette's own request through a gateway whose only upstream replays the cassette's answer. */
    private HttpResponse<String> throughGateway(Cassettes.Interaction interaction, String upstreamBody) throws Exception {
        return throughGateway(interaction, upstreamBody, () -> {});
    }

    /** As {@link #throughGateway(Cassettes.Interaction, String)}, running {@code afterAnswer} before the gateway stops. */
    private HttpResponse<String> throughGateway(Cassettes.Interaction interaction, String upstreamBody, Runnable afterAnswer)
            throws Exception {
        String model = EventCodec.mapper().readTree(interaction.requestBody()).path("model").asText();
        String path = URI.create(interaction.url()).getPath();
        Vertx vertx = Vertx.vertx();
        try (var upstream = CassetteUpstream.start(interaction, upstreamBody);
             var usage = new UsageEmitter(bootstrap, "cassette-it", Files.createTempDirectory("spool"), Spool.Options.DEFAULT, false)) {
            var config = UpstreamConfig.parse("pools: {r: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\n"
                    + "models: {\"" + model + "\": {pool: r}}\n");
            int port = new GatewayServer(vertx, state, new EndpointPool(config), usage).listen("127.0.0.1", 0)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
            HttpResponse<String> answer = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(interaction.requestBody())).build(),
                    HttpResponse.BodyHandlers.ofString());
            afterAnswer.run(); // the terminal event of a stream may follow its last byte: read it before the emitter closes
            return answer;
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat-basic", "chat-multiturn", "chat-tools", "chat-streaming", "completion-basic",
            "completion-streaming", "embeddings-basic", "chat-bad-request", "chat-unknown-model", "otel/responses-reasoning",
            "otel/responses-streaming", "otel/messages-basic", "otel/messages-streaming"})
    void theClientReceivesExactlyTheBytesTheUpstreamSent(String name) throws Exception {
        Cassettes.Interaction interaction = Cassettes.load(name);

        HttpResponse<String> response = throughGateway(interaction, interaction.responseBody());

        assertThat(response.statusCode()).isEqualTo(interaction.status());
        assertThat(response.body()).isEqualTo(interaction.responseBody());
    }

    /**
     * The recorded Responses and Messages exchanges (issue #20) bill exactly what their servers counted: Anthropic's
     * prompt is its input plus the cache reads and writes, OpenAI's reasoning tokens are a part of the output.
     */
    @ParameterizedTest
    @CsvSource({"otel/responses-reasoning, 44, 288, 0, 0, 9", "otel/responses-streaming, 22, 6, 0, 0, 0",
            "otel/messages-basic, 13, 5, 0, 0, 0", "otel/messages-streaming, 13, 5, 0, 0, 0"})
    void aRecordedExchangeBillsExactlyTheServersCounts(String name, long prompt, long completion, long cached, long cacheWrite,
                                                        long reasoning) throws Exception {
        Cassettes.Interaction interaction = Cassettes.load(name);
        int before = finished().size();

        assertThat(throughGateway(interaction, interaction.responseBody(),
                () -> await().atMost(Duration.ofSeconds(30)).until(() -> finished().size() > before)).statusCode()).isEqualTo(200);

        RequestFinished done = finished().get(before);
        assertThat(done.usage()).isEqualTo(new TokenUsage(prompt, completion, cached, cacheWrite, reasoning, 0, 0));
        assertThat(done.upstreamUsage()).isEqualTo(done.usage());
    }

    /** The tenant's terminal events on the topic so far, oldest first. */
    private List<RequestFinished> finished() {
        return TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                .filter(e -> e.tenantid().equals(tenant)).map(CloudEvent::data).filter(RequestFinished.class::isInstance)
                .map(RequestFinished.class::cast).toList();
    }

    @Test
    void aUsageOnlyChunkTheClientDidNotAskForIsTheOnlyThingRemoved() throws Exception {
        Cassettes.Interaction interaction = Cassettes.load("chat-streaming");
        String original = interaction.responseBody();
        String usageChunk = "data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-5-nano\","
                + "\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":48,\"total_tokens\":56}}\n\n";
        String withUsage = original.replace("data: [DONE]", usageChunk + "data: [DONE]");

        HttpResponse<String> response = throughGateway(interaction, withUsage);

        assertThat(response.body()).isEqualTo(original);
    }
}
