package dev.tollgate.gateway.http;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.proxy.InferenceProxy;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import dev.tollgate.testkit.upstream.RecordedRequest;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Inference through the gateway to the fake upstream, driven by the official OpenAI Java SDK, with
 * the usage events checked on the in-JVM Kafka against the upstream's own token counts.
 */
@ExtendWith(KafkaExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayProxyIT {
    private final String tenant = "proxy-" + UUID.randomUUID().toString().substring(0, 8);
    private final ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
    private FakeUpstream upstream;
    private Vertx vertx;
    private StateDirectory state;
    private UsageEmitter usage;
    private String base;
    private String bootstrap;

    @BeforeAll
    void start(EmbeddedKafka kafka) throws Exception {
        bootstrap = kafka.bootstrapServers();
        upstream = FakeUpstream.start(0, List.of("fake-chat", "fake-embed"), FakeBehaviour.DEFAULT);
        Instant now = Instant.now();
        publish(new TenantState(tenant, "P", TenantState.Status.ACTIVE, "pro", "UTC", "USD", Limits.NONE, null, null, 1, now),
                Topics.TENANTS_STATE.name());
        publish(new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(key.hash(), null)),
                List.of(), List.of(), null, null, 1, now), Topics.KEYS_STATE.name());
        var config = UpstreamConfig.parse("""
                pools: {local: {credential: pool-secret, endpoints: [{url: "%s"}]}}
                models: {fake-chat: {pool: local}, fake-embed: {pool: local}}
                """.formatted(upstream.baseUrl()));
        vertx = Vertx.vertx();
        state = StateDirectory.start(bootstrap);
        usage = new UsageEmitter(bootstrap, "proxy-it", Files.createTempDirectory("spool"),
                Spool.Options.DEFAULT, false);
        int port = new GatewayServer(vertx, state, new EndpointPool(config), usage).listen("127.0.0.1", 0)
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
        base = "http://127.0.0.1:" + port;
        await().atMost(Duration.ofSeconds(30)).until(() -> HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
    }

    @AfterAll
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        state.close();
        usage.close();
        upstream.close();
    }

    private void publish(StateRecord record, String topic) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
        }
    }

    private OpenAIClient client() {
        return OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey(key.token()).maxRetries(0).build();
    }

    /** The tenant's usage events of one request, once its terminal event has arrived. */
    private List<CloudEvent<EventData>> eventsOf(String requestId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> events(requestId).stream()
                .anyMatch(e -> e.data() instanceof RequestFinished));
        return events(requestId);
    }

    private List<CloudEvent<EventData>> events(String requestId) {
        return TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                .filter(e -> e.tenantid().equals(tenant) && requestId.equals(e.subject())).toList();
    }

    /**
     * The id of the newest request of {@link #tenant}: usage events reach Kafka asynchronously, so wait until every
     * request the upstream saw (this class's tenants all start with {@link #tenant}) has its accepted event on the
     * topic (one partition per tenant: the tenant's last is its newest).
     */
    private String lastRequestId() {
        int forwarded = upstream.requests().size();
        List<CloudEvent<EventData>> accepted = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            accepted.clear();
            TopicReader.readAll(bootstrap, Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                    .filter(e -> e.tenantid().startsWith(tenant) && e.eventType() == EventType.USAGE_REQUEST_ACCEPTED)
                    .forEach(accepted::add);
            return accepted.size() >= forwarded;
        });
        return accepted.stream().filter(e -> e.tenantid().equals(tenant)).reduce((a, b) -> b).orElseThrow().subject();
    }

    private static RequestFinished terminal(List<CloudEvent<EventData>> events) {
        return events.stream().map(CloudEvent::data).filter(RequestFinished.class::isInstance).map(RequestFinished.class::cast)
                .findFirst().orElseThrow();
    }

    /** The fake upstream's {@code host:port}. */
    private String upstreamAddress() {
        return URI.create(upstream.baseUrl()).getAuthority();
    }

    /** Everything the gateway answers on one raw connection until it closes it (a read timeout fails the test). */
    private String rawExchange(String request) throws Exception {
        try (var socket = new Socket("127.0.0.1", URI.create(base).getPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Issue #19 item 8 (RFC 9112 §6.1): ambiguous framing is never read as a second request. */
    @Test
    void aRequestWithBothContentLengthAndTransferEncodingNeverSmugglesASecondRequest() throws Exception {
        String smuggling = rawExchange("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(smuggling).startsWith("HTTP/1.1 401").containsIgnoringCase("connection: close");
        assertThat(smuggling.split("HTTP/1\\.1 ", -1)).as("one answer, then the connection is closed").hasSize(2);

        String unknownCoding = rawExchange("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                + "Transfer-Encoding: xchunked\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(unknownCoding).startsWith("HTTP/1.1 501").contains("\"code\":\"unsupported_transfer_encoding\"");
        assertThat(unknownCoding.split("HTTP/1\\.1 ", -1)).hasSize(2);
    }

    @Test
    void aChatCompletionIsServedWithThePoolCredentialAndMeteredExactly() {
        ChatCompletion completion = client().chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-chat").addUserMessage("Say hello to the gateway.").build());

        assertThat(completion.choices().getFirst().message().content()).isPresent();
        long completionTokens = completion.usage().orElseThrow().completionTokens();
        assertThat(completionTokens).isEqualTo(16);
        RecordedRequest forwarded = upstream.requests().getLast();
        assertThat(forwarded.header("authorization")).isEqualTo("Bearer pool-secret");
        assertThat(forwarded.body()).doesNotContain(key.token());

        List<CloudEvent<EventData>> events = eventsOf(lastRequestId());
        assertThat(events).extracting(CloudEvent::type).containsExactly(
                EventType.USAGE_REQUEST_ACCEPTED.typeName(), EventType.USAGE_REQUEST_COMPLETED.typeName());
        RequestFinished done = terminal(events);
        assertThat(done.usage().completionTokens()).isEqualTo(16);
        assertThat(done.usage().promptTokens()).isEqualTo(completion.usage().orElseThrow().promptTokens());
        assertThat(done.upstreamUsage()).isEqualTo(done.usage());
    }

    @Test
    void aStreamedChatIsRelayedChunkByChunkWithoutTheUsageChunkItDidNotAskFor() {
        long contentChunks = 0;
        boolean sawUsage = false;
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("fake-chat").addUserMessage("Stream to me, please.").build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                sawUsage |= chunk.usage().isPresent();
                contentChunks += chunk.choices().stream().filter(c -> c.delta().content().filter(t -> !t.isEmpty()).isPresent()).count();
            }
        }

        assertThat(contentChunks).isEqualTo(16);
        assertThat(sawUsage).as("the client did not ask for usage").isFalse();
        assertThat(upstream.requests().getLast().body()).contains("\"include_usage\":true");
        RequestFinished done = terminal(eventsOf(lastRequestId()));
        assertThat(done.usage().completionTokens()).isEqualTo(16);
        assertThat(done.upstreamUsage()).isNotNull();
        long streamed = eventsOf(lastRequestId()).stream().map(CloudEvent::data).filter(TokensStreamed.class::isInstance)
                .mapToLong(d -> ((TokensStreamed) d).completionTokens()).sum();
        assertThat(streamed + done.completionTokensRemainder()).as("every token counted exactly once").isEqualTo(16);
        assertThat(done.timeToFirstTokenMs()).isNotNull();
    }

    @Test
    void aStreamThatAsksForUsageGetsTheUsageChunk() {
        boolean sawUsage = false;
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("fake-chat").addUserMessage("Usage too.")
                        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                        .build())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                sawUsage |= chunk.usage().map(u -> u.completionTokens() == 16).orElse(false);
            }
        }
        assertThat(sawUsage).isTrue();
    }

    @Test
    void completionsAndEmbeddingsAreServedAndMetered() {
        Completion completion = client().completions().create(CompletionCreateParams.builder()
                .model("fake-chat").prompt("Once upon a time").maxTokens(5).build());
        assertThat(completion.usage().orElseThrow().completionTokens()).isEqualTo(5);
        assertThat(terminal(eventsOf(lastRequestId())).usage().completionTokens()).isEqualTo(5);

        CreateEmbeddingResponse embeddings = client().embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-embed").input("a b c").build());
        assertThat(embeddings.data()).hasSize(1);
        RequestFinished done = terminal(eventsOf(lastRequestId()));
        assertThat(done.usage().promptTokens()).isEqualTo(3);
        assertThat(done.usage().completionTokens()).isZero();
    }

    @Test
    void aRequestTheModelServerRefusesOrFailsBeforeAnyOutputBillsNothing() throws Exception {
        var http = HttpClient.newHttpClient();
        try {
            for (int status : new int[]{400, 404, 413, 422, 429, 500}) {
                for (boolean stream : new boolean[]{false, true}) {
                    upstream.setBehaviour(new FakeBehaviour(0, 0, 16, status, -1, 0, false, Integer.MAX_VALUE));
                    String body = "{\"model\":\"fake-chat\",\"stream\":" + stream + ",\"max_tokens\":50,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"a prompt the server will refuse, status " + status + "\"}]}";
                    HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                            .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(answer.statusCode()).as("status %d, stream %s", status, stream).isEqualTo(status >= 500 ? 502 : status);

                    List<CloudEvent<EventData>> events = eventsOf(lastRequestId());
                    RequestFinished failed = terminal(events);
                    assertThat(events.getLast().type()).isEqualTo(EventType.USAGE_REQUEST_FAILED.typeName());
                    assertThat(failed.usage()).as("usage billed for upstream %d, stream %s", status, stream).isEqualTo(TokenUsage.ZERO);
                    assertThat(failed.error().httpStatus()).isEqualTo(status >= 500 ? 502 : status);
                }
            }
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT);
        }
    }

    @Test
    void aStreamThatExhaustsAHardBudgetIsCutWithAFinalErrorEventTheUpstreamResetAndExactlyTheDeliveredTokensBilled() throws Exception {
        String capped = tenant + "-cap";
        ApiKeys.NewKey cappedKey = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(new TenantState(capped, "C", TenantState.Status.ACTIVE, null, "UTC", "USD", new Limits(null, null, 60L, null, null, null),
                null, null, 1, now), Topics.TENANTS_STATE.name());
        publish(new KeyState(cappedKey.keyId(), capped, "k", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(cappedKey.hash(), null)),
                List.of(), List.of(), null, null, 1, now), Topics.KEYS_STATE.name());
        await().atMost(Duration.ofSeconds(20)).until(() -> state.key(cappedKey.keyId()).isPresent() && state.tenant(capped).isPresent());
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withCompletionTokens(1_000).withInterTokenDelayMs(5));
        int delivered = 0;
        String finalEvent = null;
        Instant cutSeen = null;
        try {
            HttpResponse<Stream<String>> answer = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("authorization", "Bearer " + cappedKey.token())
                            .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"model\":\"fake-chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"cut me\"}]}"))
                            .build(), HttpResponse.BodyHandlers.ofLines());
            assertThat(answer.statusCode()).isEqualTo(200);
            for (String line : (Iterable<String>) answer.body()::iterator) {
                if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                    delivered++;
                } else if (line.contains("\"error\"")) {
                    finalEvent = line;
                    cutSeen = Instant.now();
                }
            }
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT);
        }

        assertThat(finalEvent).as("the last event of the stream").isNotNull().contains("\"code\":\"insufficient_quota\"");
        assertThat(delivered).as("cut well before the 1,000 tokens").isBetween(1, 100);
        Instant seen = cutSeen;
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.cancelledRequests().stream().anyMatch(r -> r.body().contains("cut me")));
        Instant upstreamReset = upstream.cancelledRequests().stream().filter(r -> r.body().contains("cut me")).findFirst().orElseThrow().endedAt();
        System.out.printf("[cut] %d tokens delivered; the upstream saw the reset %d ms after the client read the final event%n", delivered,
                Duration.between(seen, upstreamReset).toMillis());
        assertThat(Duration.between(seen, upstreamReset)).as("final event -> upstream reset").isLessThan(Duration.ofMillis(100));

        List<CloudEvent<EventData>> events = await().atMost(Duration.ofSeconds(20)).until(() -> TopicReader.readAll(bootstrap, Topics.USAGE.name())
                .stream().map(r -> EventCodec.decode(r.value())).filter(e -> e.tenantid().equals(capped)).toList(),
                list -> list.stream().anyMatch(e -> e.data() instanceof RequestFinished));
        RequestFinished terminal = terminal(events);
        assertThat(events.stream().filter(e -> e.data() instanceof RequestFinished)).hasSize(1);
        assertThat(terminal.cancelReason()).isEqualTo("quota_exhausted");
        assertThat(events.stream().filter(e -> e.data() instanceof RequestFinished).findFirst().orElseThrow().type())
                .isEqualTo(EventType.USAGE_REQUEST_CANCELLED.typeName());
        long billedCompletion = events.stream().mapToLong(e -> e.data() instanceof TokensStreamed t ? t.completionTokens() : 0).sum()
                + terminal.completionTokensRemainder();
        assertThat(billedCompletion).as("billed completion tokens = delivered").isEqualTo(delivered);
    }

    @Test
    void aRequestOverASoftSpendLimitIsServedWithTheSoftLimitHeader() throws Exception {
        String soft = tenant + "-soft";
        ApiKeys.NewKey softKey = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        String plan = "soft-" + UUID.randomUUID().toString().substring(0, 8); // a metric label: never the tenant's id
        TestGateway.publishPriceList(bootstrap, new PriceListPublished("pl-" + plan, plan, "USD", now.minusSeconds(60), false,
                List.of(new ModelPrice("fake-chat", 1_000_000, 1_000_000, 1_000_000))));
        publish(new TenantState(soft, "S", TenantState.Status.ACTIVE, plan, "UTC", "USD",
                new Limits(null, null, null, 1L, Limits.SpendLimitMode.SOFT, null), null, null, 1, now), Topics.TENANTS_STATE.name());
        publish(new KeyState(softKey.keyId(), soft, "k", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(softKey.hash(), null)),
                List.of(), List.of(), null, null, 1, now), Topics.KEYS_STATE.name());
        await().atMost(Duration.ofSeconds(20)).until(() -> state.key(softKey.keyId()).isPresent()
                && state.priceBook().schedule(plan).isPresent());

        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + softKey.token()).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"max_tokens\":16,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"over a soft limit\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.headers().firstValue(InferenceProxy.SOFT_LIMIT_HEADER)).contains("tenant-spend");
    }

    /**
     * Sends {@code body} to {@code path} on a raw connection, reads the SSE answer until {@code chunks}
     * content chunks (those whose {@code field} is not empty) have arrived, then hangs up.
     * @return the content chunks received
     */
    private int readChunksThenHangUp(String path, String body, String field, int chunks) throws IOException {
        int received = 0;
        try (var socket = new Socket("127.0.0.1", URI.create(base).getPort())) {
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + key.token() + "\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            var reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null && received < chunks; line = reader.readLine()) {
                if (line.startsWith("data: {") && line.contains("\"" + field + "\":\"") && !line.contains("\"" + field + "\":\"\"")) {
                    received++;
                }
            }
        }
        return received;
    }

    @Test
    void aClientThatHangsUpMidStreamCancelsTheUpstreamAndIsBilledForWhatItReceived() throws Exception {
        String body = "{\"model\":\"fake-chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"long\"}]}";
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withCompletionTokens(1000).withInterTokenDelayMs(20));
        int received;
        try {
            received = readChunksThenHangUp("/v1/chat/completions", body, "content", 5);
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT);
        }
        Instant hungUp = Instant.now();

        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.cancelledRequests().stream().anyMatch(r -> r.body().contains("long")));
        RecordedRequest cancelledUpstream = upstream.cancelledRequests().stream().filter(r -> r.body().contains("long")).findFirst().orElseThrow();
        Duration cancelLatency = Duration.between(hungUp, cancelledUpstream.endedAt());
        System.out.printf("[cancel] the upstream saw the cancellation %d ms after the client hung up%n", cancelLatency.toMillis());
        assertThat(cancelLatency).as("client disconnect -> upstream cancel").isLessThan(Duration.ofMillis(100));
        List<CloudEvent<EventData>> events = eventsOf(lastRequestId());
        RequestFinished cancelled = terminal(events);
        assertThat(events.stream().filter(e -> e.data() instanceof RequestFinished)).as("exactly one terminal event").hasSize(1);
        assertThat(events.getLast().type()).isEqualTo(EventType.USAGE_REQUEST_CANCELLED.typeName());
        assertThat(cancelled.cancelReason()).isEqualTo("client_disconnect");
        assertThat(cancelled.usage().completionTokens()).isBetween((long) received, 100L);
    }

    /**
     * Issue #19 item 2: a client that hangs up before the usage chunk pays the prompt's ceiling (here
     * exactly its 3,000 token ids), never 0; one that read the usage chunk pays the server's count.
     */
    @Test
    void aClientThatHangsUpBeforeTheUsageChunkPaysThePromptsCeilingNeverNothing() throws Exception {
        var ids = new StringBuilder();
        for (int id = 1000; id < 4000; id++) {
            ids.append(ids.isEmpty() ? "" : ",").append(id);
        }
        String body = "{\"model\":\"fake-chat\",\"stream\":true,\"max_tokens\":20,\"prompt\":[" + ids + "]}";
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withCompletionTokens(20).withInterTokenDelayMs(20));
        try {
            assertThat(readChunksThenHangUp("/v1/completions", body, "text", 19)).isEqualTo(19);
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> eventsOf(lastRequestId()).stream().anyMatch(e -> e.data() instanceof RequestFinished));
        RequestFinished hungUp = terminal(eventsOf(lastRequestId()));
        assertThat(hungUp.cancelReason()).isEqualTo("client_disconnect");
        assertThat(hungUp.usage().promptTokens()).as("3,000 token ids: the ceiling, not 0").isEqualTo(3_000);
        assertThat(hungUp.usage().completionTokens()).isBetween(19L, 20L);
    }

    /**
     * Backpressure: a client that stops reading pauses the upstream (its tokens wait in the upstream,
     * not in the gateway's memory); once it reads again every token arrives and is billed once.
     */
    @Test
    void aClientThatStopsReadingPausesTheUpstreamInsteadOfFillingTheGatewaysMemory() throws Exception {
        int tokens = 200_000; // about 30 MB of SSE: more than every socket buffer on the way can hold
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withCompletionTokens(tokens));
        String body = "{\"model\":\"fake-chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"flood\"}]}";
        long contentChunks = 0;
        try (var socket = new Socket()) {
            socket.setReceiveBufferSize(8 * 1024);
            socket.connect(new InetSocketAddress("127.0.0.1", URI.create(base).getPort()));
            socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + key.token() + "\r\nConnection: close\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            var in = socket.getInputStream();
            byte[] first = in.readNBytes(16 * 1024);
            Thread.sleep(3_000); // the client reads nothing
            assertThat(upstream.runningRequests()).as("the upstream is held back by the slow client, not drained into the gateway")
                    .isEqualTo(1);
            byte[] needle = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
            byte[] rest = in.readAllBytes();
            byte[] all = Arrays.copyOf(first, first.length + rest.length);
            System.arraycopy(rest, 0, all, first.length, rest.length);
            for (int i = 0; i + needle.length < all.length; i++) {
                if (Arrays.equals(all, i, i + needle.length, needle, 0, needle.length) && all[i + needle.length] != '"') {
                    contentChunks++;
                }
            }
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT);
        }
        assertThat(contentChunks).as("every token reached the client").isEqualTo(tokens);
        List<CloudEvent<EventData>> events = eventsOf(lastRequestId());
        RequestFinished finished = terminal(events);
        assertThat(finished.usage().completionTokens()).isEqualTo(tokens);
        System.out.printf("[fault] a client stops reading for 3 s during a %d-token stream | the upstream waited (1 request held), "
                + "tokens delivered %d, billed %d in %d terminal event(s), lost 0%n", tokens, contentChunks,
                finished.usage().completionTokens(), events.stream().filter(e -> e.data() instanceof RequestFinished).count());
    }

    /** The model server dies mid-stream: the client gets a clean SSE error, the delivered tokens are billed once. */
    @Test
    void anUpstreamThatDiesMidStreamEndsTheStreamCleanlyAndBillsWhatWasDelivered() throws Exception {
        upstream.setBehaviour(new FakeBehaviour(0, 5, 100, 0, 7, 0, false, Integer.MAX_VALUE)); // connection dropped after 7 tokens
        List<String> lines;
        try {
            HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("authorization", "Bearer " + key.token())
                            .header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"model\":\"fake-chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"dies\"}]}"))
                            .build(), HttpResponse.BodyHandlers.ofLines());
            assertThat(response.statusCode()).isEqualTo(200);
            lines = response.body().filter(line -> line.startsWith("data: ")).toList();
        } finally {
            upstream.setBehaviour(FakeBehaviour.DEFAULT);
        }
        long delivered = lines.stream().filter(l -> l.contains("\"content\":\"") && !l.contains("\"content\":\"\"")).count();
        assertThat(delivered).isBetween(1L, 7L);
        assertThat(lines.getLast()).as("the stream ends with an OpenAI-shaped error event, no [DONE]")
                .contains("\"error\"").contains("\"code\":\"upstream_error\"");
        assertThat(lines).noneMatch(l -> l.contains("[DONE]"));
        List<CloudEvent<EventData>> events = eventsOf(lastRequestId());
        assertThat(events.stream().filter(e -> e.data() instanceof RequestFinished)).as("exactly one terminal event").hasSize(1);
        assertThat(events.getLast().type()).isEqualTo(EventType.USAGE_REQUEST_FAILED.typeName());
        assertThat(terminal(events).usage().completionTokens()).as("billed for what the client received").isEqualTo(delivered);
        System.out.printf("[fault] the upstream dies mid-stream after 7 tokens | the client got %d tokens and an SSE error, billed %d "
                + "in exactly one terminal event (%s)%n", delivered, terminal(events).usage().completionTokens(), events.getLast().type());
    }

    @Test
    void metricsFollowTheGenAiConventionsWithoutTenantLabels() throws Exception {
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("fake-chat").addUserMessage("Count me.").build())) {
            stream.stream().forEach(chunk -> { });
        }
        // HTTP/1.1 as Prometheus scrapes (the JDK client's h2c upgrade attempt is not what is under test here).
        String metrics = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains(
                "gen_ai_server_request_duration_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"fake-chat\",http_response_status_code=\"200\",tollgate_tenant_tier=\"pro\"}",
                "gen_ai_server_time_to_first_token_seconds_bucket", "gen_ai_server_time_per_output_token_seconds_count",
                "gen_ai_client_token_usage_tokens_sum{gen_ai_request_model=\"fake-chat\",gen_ai_token_type=\"output\"}",
                "tollgate_gateway_upstream_healthy{endpoint=", "tollgate_gateway_spool_pending_bytes",
                "kafka_producer_record_send_total", "kafka_consumer_fetch_manager_records_lag_max");
        assertThat(metrics).doesNotContain(tenant).doesNotContain(key.keyId());
        assertThat(metrics).as("no upstream address on the public port").doesNotContain(upstreamAddress()).doesNotContain("http://");
        // A client that tries an h2c upgrade (the JDK's default) gets plain HTTP/1.1 and a readable answer.
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> again = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(again.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(again.body()).contains("gen_ai_server_request_duration_seconds_count");
        }
    }

    /**
     * Hostile input costs bounded work and gets a 4xx; nothing a caller sends chooses where the gateway
     * connects (SSRF): the upstream is the configured pool's, whatever the model, path or headers say.
     */
    @Test
    void hostileInputIsRefusedAndNoRequestChoosesTheUpstream() throws Exception {
        var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Function<byte[], HttpResponse<String>> post = body -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                        .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        String nested = "{\"model\":\"fake-chat\",\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        HttpResponse<String> deep = post.apply(nested.getBytes(StandardCharsets.UTF_8));
        assertThat(deep.statusCode()).isEqualTo(400);
        assertThat(deep.body()).contains("nested deeper than 64");
        byte[] invalidUtf8 = "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"AB\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        invalidUtf8[invalidUtf8.length - 6] = (byte) 0xC3; // a lead byte followed by '"': not UTF-8
        invalidUtf8[invalidUtf8.length - 5] = (byte) 0x28;
        HttpResponse<String> badText = post.apply(invalidUtf8);
        assertThat(badText.statusCode()).isEqualTo(400);
        assertThat(badText.body()).contains("\"type\":\"invalid_request_error\"");

        int before = upstream.requests().size();
        for (String model : List.of("http://169.254.169.254/latest/meta-data", "fake-chat@evil.example", "../admin")) {
            HttpResponse<String> refused = post.apply(("{\"model\":\"" + model + "\",\"messages\":[]}").getBytes(StandardCharsets.UTF_8));
            assertThat(refused.statusCode()).as(model).isEqualTo(404);
        }
        // Forwarding headers and an absolute request target are ignored: the request goes to the configured pool only,
        // with none of the caller's headers.
        try (var socket = new Socket("127.0.0.1", URI.create(base).getPort())) {
            String body = "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            socket.getOutputStream().write(("POST http://evil.example/v1/chat/completions HTTP/1.1\r\nHost: evil.example\r\n"
                    + "X-Forwarded-Host: evil.example\r\nX-Upstream: http://evil.example\r\nAuthorization: Bearer " + key.token()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 200");
        }
        assertThat(upstream.requests()).hasSize(before + 1);
        var forwarded = upstream.requests().getLast();
        assertThat(forwarded.path()).isEqualTo("/v1/chat/completions");
        assertThat(forwarded.headers()).doesNotContainKeys("x-forwarded-host", "x-upstream")
                .doesNotContainEntry("authorization", List.of("Bearer " + key.token()));

        // Slow body (R.U.D.Y.): a byte a second keeps the idle timeout away, but not the body deadline: 408, then closed.
        // It runs while the slow-headers case below waits.
        var slowBody = new Socket("127.0.0.1", URI.create(base).getPort());
        long bodyStarted = System.nanoTime();
        slowBody.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.token()
                + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":").getBytes(StandardCharsets.UTF_8));
        Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < 60; i++) {
                    Thread.sleep(1_000);
                    slowBody.getOutputStream().write(' ');
                }
            } catch (Exception closed) {
                // the gateway gave up on it: expected
            }
        });

        // Slow headers (slowloris): the connection is closed once the head has not arrived in time.
        long started = System.nanoTime();
        try (var slow = new Socket("127.0.0.1", URI.create(base).getPort())) {
            slow.setSoTimeout((int) GatewayServer.HEADER_TIMEOUT_MS + 10_000);
            slow.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.UTF_8));
            assertThat(slow.getInputStream().read()).as("closed by the gateway").isEqualTo(-1);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(GatewayServer.HEADER_TIMEOUT_MS + 5_000));
        // The same on a keep-alive connection after its first request (issue #19 item 7): one byte of a second head.
        started = System.nanoTime();
        try (var keptAlive = new Socket("127.0.0.1", URI.create(base).getPort())) {
            keptAlive.setSoTimeout((int) GatewayServer.HEADER_TIMEOUT_MS + 10_000);
            keptAlive.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            byte[] first = new byte[4096];
            int read = keptAlive.getInputStream().read(first);
            assertThat(new String(first, 0, read, StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200");
            keptAlive.getOutputStream().write('G');
            while (keptAlive.getInputStream().read(first) != -1) {
                // the rest of the first answer, then the close
            }
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("a keep-alive connection with half a second head is closed")
                .isLessThan(Duration.ofMillis(GatewayServer.HEADER_TIMEOUT_MS + 5_000));
        try (slowBody) {
            slowBody.setSoTimeout((int) GatewayServer.BODY_TIMEOUT_MS + 10_000);
            String answer = new String(slowBody.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 408").contains("\"code\":\"request_timeout\"", "\"type\":\"invalid_request_error\"");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - bodyStarted)).isBetween(Duration.ofMillis(GatewayServer.BODY_TIMEOUT_MS - 1_000),
                Duration.ofMillis(GatewayServer.BODY_TIMEOUT_MS + 5_000));
        assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).containsPattern("tollgate_gateway_connections_slow_closed_total [1-9]")
                .containsPattern("tollgate_gateway_requests_slow_body_total [1-9]");
    }

    @Test
    void badRequestsGetOpenAiErrorsAndNoUsage() throws Exception {
        var http = HttpClient.newHttpClient();
        HttpResponse<String> notJson = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token()).POST(HttpRequest.BodyPublishers.ofString("{nope")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> unknownModel = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token()).POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-9\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> tooLarge = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token())
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"x\":\"" + "a".repeat(5 * 1024 * 1024) + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("\"type\":\"invalid_request_error\"");
        assertThat(unknownModel.statusCode()).isEqualTo(404);
        assertThat(unknownModel.body()).contains("model_not_found");
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        HttpResponse<String> hugeMaxTokens = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key.token())
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"max_tokens\":1000000000,\"messages\":[]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(hugeMaxTokens.statusCode()).isEqualTo(400);
        // Headers beyond 16 KiB are refused by the HTTP codec itself, before any routing (so not in the OpenAI shape).
        HttpResponse<String> headerFlood = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create(base + "/v1/models")).header("authorization", "Bearer " + key.token())
                        .header("x-flood", "a".repeat(20 * 1024)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(headerFlood.statusCode()).isEqualTo(431);
        assertThat(hugeMaxTokens.body()).contains("\"param\":\"max_tokens\"");
    }
}
