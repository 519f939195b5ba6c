package dev.tollgate.gateway.http;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.NotFoundException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.openai.client.OpenAIClient;
import com.openai.models.ReasoningEffort;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import dev.tollgate.testkit.upstream.RecordedRequest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The Responses API and the Anthropic Messages API through a running gateway, each with its official
 * SDK pointed at the gateway unchanged (issue #20, ADR 0029): served with the pool's credential,
 * relayed with their own events, metered with the server's own counts, every token billed once, and
 * refused in their own error shapes.
 */
@ExtendWith(KafkaExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiSurfacesIT {
    private final String tenant = "surfaces-" + UUID.randomUUID().toString().substring(0, 8);
    private FakeUpstream upstream;
    private TestGateway gateway;
    private ApiKeys.NewKey key;
    private String bootstrap;

    @BeforeAll
    void start(EmbeddedKafka kafka) throws Exception {
        bootstrap = kafka.bootstrapServers();
        upstream = FakeUpstream.start(0, List.of("fake-chat", "chat-only", "embed-only"), FakeBehaviour.DEFAULT.withCachedPromptTokens(4));
        key = TestGateway.publishTenantWithKey(bootstrap, tenant);
        gateway = TestGateway.start(bootstrap, UpstreamConfig.parse("""
                pools:
                  local: {credential: pool-secret, endpoints: [{url: "%1$s"}]}
                  chat: {apis: [chat.completions], endpoints: [{url: "%1$s"}]}
                  embed: {apis: [embeddings], endpoints: [{url: "%1$s"}]}
                models: {fake-chat: {pool: local}, chat-only: {pool: chat}, embed-only: {pool: embed}}
                """.formatted(upstream.baseUrl())));
    }

    @AfterAll
    void stop() throws Exception {
        gateway.close();
        upstream.close();
    }

    private OpenAIClient openAi() {
        return gateway.openAi(key.token());
    }

    private AnthropicClient anthropic(String apiKey) {
        return AnthropicOkHttpClient.builder().baseUrl(gateway.baseUrl()).apiKey(apiKey).maxRetries(0).build();
    }

    /** The usage events of the tenant's newest request, once its terminal event is on the topic. */
    private List<CloudEvent<EventData>> eventsOfLastRequest() {
        int forwarded = (int) upstream.requests().stream().filter(r -> r.path().startsWith("/v1/")).count();
        String[] requestId = new String[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<CloudEvent<EventData>> accepted = usage().stream().filter(e -> e.eventType() == EventType.USAGE_REQUEST_ACCEPTED).toList();
            if (accepted.size() < forwarded) {
                return false;
            }
            requestId[0] = accepted.getLast().subject();
            return usage().stream().anyMatch(e -> e.subject().equals(requestId[0]) && e.data() instanceof RequestFinished);
        });
        return usage().stream().filter(e -> e.subject().equals(requestId[0])).toList();
    }

    private List<CloudEvent<EventData>> usage() {
        return TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                .filter(e -> e.tenantid().equals(tenant)).toList();
    }

    private static RequestFinished terminal(List<CloudEvent<EventData>> events) {
        return (RequestFinished) terminalEvent(events).data();
    }

    private static CloudEvent<EventData> terminalEvent(List<CloudEvent<EventData>> events) {
        return events.stream().filter(e -> e.data() instanceof RequestFinished).findFirst().orElseThrow();
    }

    /** Completion tokens billed over the request's events: progress events and the terminal event's remainder. */
    private static long billedCompletion(List<CloudEvent<EventData>> events) {
        long streamed = events.stream().map(CloudEvent::data).filter(TokensStreamed.class::isInstance)
                .mapToLong(d -> ((TokensStreamed) d).completionTokens()).sum();
        return streamed + terminal(events).completionTokensRemainder();
    }

    private static Endpoint endpointOf(List<CloudEvent<EventData>> events) {
        return events.stream().map(CloudEvent::data).filter(RequestAccepted.class::isInstance).map(RequestAccepted.class::cast)
                .findFirst().orElseThrow().endpoint();
    }

    /**
     * ADR 0030: a reasoning model's stream (vLLM's {@code delta.reasoning_content} first, then the answer) reports its
     * thinking on the progress events as it passes, and the terminal event bills only what they did not.
     */
    @Test
    void aReasoningStreamReportsItsThinkingAsItPassesAndBillsEveryReasoningTokenOnce() throws Exception {
        try (var thinker = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT.withCompletionTokens(600));
             var gateway = TestGateway.start(bootstrap, UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + thinker.baseUrl()
                     + "\"}]}}\nmodels: {fake-chat: {pool: p}}\n"))) {
            long chunks = 0;
            try (var stream = gateway.openAi(key.token()).chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                    .model("fake-chat").addUserMessage("Think, then answer.").reasoningEffort(ReasoningEffort.LOW).build())) {
                chunks = stream.stream().count();
            }
            assertThat(chunks).isGreaterThan(600);
        }

        // The one request of this class that generated 600 tokens (it went to its own upstream, not the class's).
        String[] requestId = new String[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> usage().stream().filter(e -> e.data() instanceof RequestFinished f
                && f.usage().completionTokens() == 600).peek(e -> requestId[0] = e.subject()).findFirst().isPresent());
        List<CloudEvent<EventData>> events = usage().stream().filter(e -> e.subject().equals(requestId[0])).toList();
        List<TokensStreamed> progress = events.stream().map(CloudEvent::data).filter(TokensStreamed.class::isInstance)
                .map(TokensStreamed.class::cast).toList();
        RequestFinished done = terminal(events);
        assertThat(progress).as("at least one progress event every 256 tokens").hasSizeGreaterThanOrEqualTo(2);
        assertThat(progress.getFirst().reasoning()).as("the model thought first").isEqualTo(progress.getFirst().completionTokens());
        assertThat(progress.stream().mapToLong(TokensStreamed::reasoning).sum()).isEqualTo(done.reasoningStreamed());
        assertThat(done.usage()).isEqualTo(new TokenUsage(done.usage().promptTokens(), 600, 0, 0, 300, 0, 0));
        assertThat(billedCompletion(events)).isEqualTo(600);
    }

    @Test
    void aResponseIsServedStatelesslyAndBilledWithItsOwnCounts() {
        Response response = openAi().responses().create(ResponseCreateParams.builder().model("fake-chat")
                .input("Tell the gateway about responses.").instructions("Be brief.").build());

        var usage = response.usage().orElseThrow();
        assertThat(usage.outputTokens()).isEqualTo(16);
        assertThat(usage.inputTokensDetails().cachedTokens()).isEqualTo(4);
        RecordedRequest forwarded = upstream.requests().getLast();
        assertThat(forwarded.path()).isEqualTo("/v1/responses");
        assertThat(forwarded.header("authorization")).isEqualTo("Bearer pool-secret");
        assertThat(new JsonObject(forwarded.body()).getBoolean("store")).as("nothing stored upstream").isFalse();

        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        assertThat(endpointOf(events)).isEqualTo(Endpoint.RESPONSES);
        RequestFinished done = terminal(events);
        assertThat(done.usage()).isEqualTo(new TokenUsage(usage.inputTokens(), 16, 4));
        assertThat(done.upstreamUsage()).isEqualTo(done.usage());
    }

    @Test
    void aStreamedResponseKeepsItsEventsAndBillsEveryTokenOnce() {
        StringBuilder text = new StringBuilder();
        Response completed = null;
        try (var stream = openAi().responses().createStreaming(ResponseCreateParams.builder().model("fake-chat")
                .input("Stream a response.").build())) {
            for (ResponseStreamEvent event : (Iterable<ResponseStreamEvent>) stream.stream()::iterator) {
                event.outputTextDelta().ifPresent(delta -> text.append(delta.delta()));
                if (event.completed().isPresent()) {
                    completed = event.completed().get().response();
                }
            }
        }

        assertThat(completed).as("the SDK read response.completed").isNotNull();
        assertThat(text).isNotEmpty();
        long output = completed.usage().orElseThrow().outputTokens();
        assertThat(output).isEqualTo(16);
        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        RequestFinished done = terminal(events);
        assertThat(terminalEvent(events).eventType()).isEqualTo(EventType.USAGE_REQUEST_COMPLETED);
        assertThat(done.usage().completionTokens()).isEqualTo(16);
        assertThat(done.usage().promptTokens()).isEqualTo(completed.usage().orElseThrow().inputTokens());
        assertThat(billedCompletion(events)).as("every token counted exactly once").isEqualTo(16);
    }

    @Test
    void statefulResponsesAreRefusedWithAReason() throws Exception {
        var http = HttpClient.newHttpClient();
        for (String body : List.of("{\"model\":\"fake-chat\",\"input\":\"hi\",\"previous_response_id\":\"resp_1\"}",
                "{\"model\":\"fake-chat\",\"input\":\"hi\",\"store\":true}",
                "{\"model\":\"fake-chat\",\"input\":\"hi\",\"background\":true}")) {
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/responses"))
                    .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).as(body).isEqualTo(400);
            assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code")).isEqualTo("unsupported_parameter");
        }
        HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/responses/resp_1"))
                .header("authorization", "Bearer " + key.token()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(read.statusCode()).isEqualTo(404);
        assertThat(new JsonObject(read.body()).getJsonObject("error").getString("code")).isEqualTo("stored_responses_unsupported");
    }

    @Test
    void aMessageIsServedWithTheAnthropicSdkAndBillsCacheReadsAsCachedPrompt() {
        Message message = anthropic(key.token()).messages().create(MessageCreateParams.builder().model("fake-chat").maxTokens(64)
                .system("Be brief.").addUserMessage("Tell the gateway about messages.").build());

        assertThat(message.content()).isNotEmpty();
        var usage = message.usage();
        assertThat(usage.outputTokens()).isEqualTo(16);
        assertThat(usage.cacheReadInputTokens()).contains(4L);
        RecordedRequest forwarded = upstream.requests().getLast();
        assertThat(forwarded.path()).isEqualTo("/v1/messages");
        assertThat(forwarded.header("authorization")).isEqualTo("Bearer pool-secret");
        assertThat(forwarded.header("x-api-key")).as("the tenant's key never goes upstream").isNull();
        assertThat(forwarded.header("anthropic-version")).isNotNull();

        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        assertThat(endpointOf(events)).isEqualTo(Endpoint.MESSAGES);
        RequestFinished done = terminal(events);
        assertThat(done.usage()).as("Anthropic's input_tokens leaves the cache reads out; the bill puts them back as cached")
                .isEqualTo(new TokenUsage(usage.inputTokens() + 4, 16, 4));
    }

    @Test
    void aStreamedMessageBillsTheDeltasOnceWithTheStartsPromptCount() {
        StringBuilder text = new StringBuilder();
        long[] outputTokens = {-1};
        long[] inputTokens = {-1};
        try (StreamResponse<RawMessageStreamEvent> stream = anthropic(key.token()).messages().createStreaming(
                MessageCreateParams.builder().model("fake-chat").maxTokens(64).addUserMessage("Stream a message.").build())) {
            for (RawMessageStreamEvent event : (Iterable<RawMessageStreamEvent>) stream.stream()::iterator) {
                event.messageStart().ifPresent(start -> inputTokens[0] = start.message().usage().inputTokens());
                event.contentBlockDelta().flatMap(delta -> delta.delta().text()).ifPresent(delta -> text.append(delta.text()));
                event.messageDelta().ifPresent(delta -> outputTokens[0] = delta.usage().outputTokens());
            }
        }

        assertThat(text).isNotEmpty();
        assertThat(outputTokens[0]).isEqualTo(16);
        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        RequestFinished done = terminal(events);
        assertThat(terminalEvent(events).eventType()).isEqualTo(EventType.USAGE_REQUEST_COMPLETED);
        assertThat(done.usage()).isEqualTo(new TokenUsage(inputTokens[0] + 4, 16, 4));
        assertThat(billedCompletion(events)).isEqualTo(16);
    }

    @Test
    void messagesErrorsComeInAnthropicsShape() throws Exception {
        assertThatThrownBy(() -> anthropic("tg_not_a_key").messages().create(MessageCreateParams.builder().model("fake-chat")
                .maxTokens(8).addUserMessage("hi").build())).isInstanceOf(UnauthorizedException.class);
        assertThatThrownBy(() -> anthropic(key.token()).messages().create(MessageCreateParams.builder().model("embed-only")
                .maxTokens(8).addUserMessage("hi").build())).isInstanceOfSatisfying(NotFoundException.class,
                e -> assertThat(e.getMessage()).contains("/v1/messages"));

        HttpResponse<String> noMaxTokens = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(gateway.baseUrl() + "/v1/messages")).header("x-api-key", key.token())
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(noMaxTokens.statusCode()).isEqualTo(400);
        JsonObject error = new JsonObject(noMaxTokens.body());
        assertThat(error.getString("type")).isEqualTo("error");
        assertThat(error.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
        assertThat(error.getJsonObject("error").getString("message")).contains("max_tokens");
    }

    @Test
    void aMessageStreamCutMidWayBillsWhatWasDelivered() throws Exception {
        HttpResponse<String> cut;
        upstream.setBehaviour(new FakeBehaviour(0, 0, 16, 0, 5, 4, false, Integer.MAX_VALUE)); // disconnects after 5 tokens
        try {
            cut = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/messages"))
                    .header("x-api-key", key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"max_tokens\":64,\"stream\":true,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT.withCachedPromptTokens(4));
        }

        assertThat(cut.body()).contains("event: message_start").endsWith("event: error\ndata: "
                + "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"The model server stopped answering.\"}}\n\n");
        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        RequestFinished done = terminal(events);
        assertThat(terminalEvent(events).eventType()).isEqualTo(EventType.USAGE_REQUEST_FAILED);
        assertThat(done.usage().completionTokens()).isEqualTo(5);
        assertThat(billedCompletion(events)).isEqualTo(5);
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + path))
                .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void rerankAndScoreBillTheTokensTheServerRead() throws Exception {
        HttpResponse<String> rerank = post("/v1/rerank", "{\"model\":\"fake-chat\",\"query\":\"what is a gateway\","
                + "\"documents\":[\"a gateway meters requests\",{\"text\":\"bananas are yellow\"}],\"top_n\":2}");
        assertThat(rerank.statusCode()).as(rerank.body()).isEqualTo(200);
        JsonObject ranked = new JsonObject(rerank.body());
        assertThat(ranked.getJsonArray("results")).hasSize(2);
        assertThat(upstream.requests().getLast().path()).isEqualTo("/v1/rerank");
        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        assertThat(endpointOf(events)).isEqualTo(Endpoint.RERANK);
        assertThat(terminal(events).usage()).as("the tokens read and the documents ranked (ADR 0030)")
                .isEqualTo(new TokenUsage(ranked.getJsonObject("usage").getLong("total_tokens"), 0, 0, 0, 0, 0, 2));

        HttpResponse<String> score = post("/v1/score", "{\"model\":\"fake-chat\",\"text_1\":\"gateway\","
                + "\"text_2\":[\"a gateway\",\"a banana\",\"a gate\"]}");
        assertThat(score.statusCode()).as(score.body()).isEqualTo(200);
        JsonObject scored = new JsonObject(score.body());
        assertThat(scored.getJsonArray("data")).hasSize(3);
        events = eventsOfLastRequest();
        assertThat(endpointOf(events)).isEqualTo(Endpoint.SCORE);
        assertThat(terminal(events).usage()).isEqualTo(new TokenUsage(scored.getJsonObject("usage").getLong("prompt_tokens"), 0, 0, 0, 0, 0, 3));

        HttpResponse<String> cohere = post("/v2/rerank", "{\"model\":\"fake-chat\",\"query\":\"q\",\"documents\":[\"d\",\"e\"]}");
        assertThat(cohere.statusCode()).as(cohere.body()).isEqualTo(200);
        assertThat(upstream.requests().getLast().path()).isEqualTo("/v2/rerank");
        events = eventsOfLastRequest();
        assertThat(endpointOf(events)).isEqualTo(Endpoint.RERANK);
        assertThat(terminal(events).usage().promptTokens()).isEqualTo(new JsonObject(cohere.body()).getJsonObject("usage").getLong("total_tokens"));
        HttpResponse<String> unauthenticated = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v2/rerank"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unauthenticated.statusCode()).as("/v2 is authenticated as /v1 is").isEqualTo(401);

        HttpResponse<String> streamed = post("/v1/rerank", "{\"model\":\"fake-chat\",\"stream\":true,\"query\":\"q\",\"documents\":[\"d\"]}");
        assertThat(streamed.statusCode()).isEqualTo(400);
    }

    @Test
    void aMessageToAPoolThatSpeaksOnlyChatIsTranslatedBothWaysAndBilledAsChat() {
        Message message = anthropic(key.token()).messages().create(MessageCreateParams.builder().model("chat-only").maxTokens(64)
                .system("Be brief.").addUserMessage("Translate me.").build());

        RecordedRequest forwarded = upstream.requests().getLast();
        assertThat(forwarded.path()).isEqualTo("/v1/chat/completions");
        JsonObject chat = new JsonObject(forwarded.body());
        assertThat(chat.getJsonArray("messages").getJsonObject(0).getString("role")).isEqualTo("system");
        assertThat(chat.getJsonArray("messages").getJsonObject(0).getString("content")).isEqualTo("Be brief.");
        assertThat(chat.getInteger("max_tokens")).isEqualTo(64);
        assertThat(message.content().getFirst().text().orElseThrow().text()).isNotEmpty();
        assertThat(message.stopReason()).hasValueSatisfying(reason -> assertThat(reason.asString()).isEqualTo("end_turn"));
        assertThat(message.usage().outputTokens()).isEqualTo(16);
        assertThat(message.usage().cacheReadInputTokens()).contains(4L);
        RequestFinished done = terminal(eventsOfLastRequest());
        assertThat(done.usage()).isEqualTo(new TokenUsage(message.usage().inputTokens() + 4, 16, 4));

        StringBuilder text = new StringBuilder();
        long[] outputTokens = {-1};
        try (StreamResponse<RawMessageStreamEvent> stream = anthropic(key.token()).messages().createStreaming(
                MessageCreateParams.builder().model("chat-only").maxTokens(5).addUserMessage("Stream, translated.").build())) {
            for (RawMessageStreamEvent event : (Iterable<RawMessageStreamEvent>) stream.stream()::iterator) {
                event.contentBlockDelta().flatMap(delta -> delta.delta().text()).ifPresent(delta -> text.append(delta.text()));
                event.messageDelta().ifPresent(delta -> {
                    outputTokens[0] = delta.usage().outputTokens();
                    assertThat(delta.delta().stopReason()).hasValueSatisfying(r -> assertThat(r.asString()).isEqualTo("max_tokens"));
                });
            }
        }
        assertThat(text).isNotEmpty();
        assertThat(outputTokens[0]).isEqualTo(5);
        List<CloudEvent<EventData>> events = eventsOfLastRequest();
        assertThat(terminalEvent(events).eventType()).isEqualTo(EventType.USAGE_REQUEST_COMPLETED);
        assertThat(terminal(events).usage().completionTokens()).isEqualTo(5);
        assertThat(billedCompletion(events)).isEqualTo(5);
    }
}
