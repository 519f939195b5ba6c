package dev.tollgate.gateway.http;

import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.upstream.CassetteUpstream;
import dev.tollgate.testkit.upstream.Cassettes;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
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
 * Real recorded OpenAI responses, served byte for byte by a replaying upstream, must reach the client
 * byte for byte through the gateway: bodies, error bodies and SSE streams alike, except a usage-only
 * chunk the client did not ask for.
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
        String model = EventCodec.mapper().readTree(interaction.requestBody()).path("model").asText();
        String path = URI.create(interaction.url()).getPath();
        Vertx vertx = Vertx.vertx();
        try (var upstream = CassetteUpstream.start(interaction, upstreamBody);
             var usage = new UsageEmitter(bootstrap, "cassette-it", Files.createTempDirectory("spool"), Spool.Options.DEFAULT, false)) {
            var config = UpstreamConfig.parse("pools: {r: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\n"
                    + "models: {\"" + model + "\": {pool: r}}\n");
            int port = new GatewayServer(vertx, state, new EndpointPool(config), usage).listen("127.0.0.1", 0)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
            return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(interaction.requestBody())).build(),
                    HttpResponse.BodyHandlers.ofString());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat-basic", "chat-multiturn", "chat-tools", "chat-streaming", "completion-basic",
            "completion-streaming", "embeddings-basic", "chat-bad-request", "chat-unknown-model"})
    void theClientReceivesExactlyTheBytesTheUpstreamSent(String name) throws Exception {
        Cassettes.Interaction interaction = Cassettes.load(name);

        HttpResponse<String> response = throughGateway(interaction, interaction.responseBody());

        assertThat(response.statusCode()).isEqualTo(interaction.status());
        assertThat(response.body()).isEqualTo(interaction.responseBody());
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
