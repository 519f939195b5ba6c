package dev.tollgate.testkit.upstream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class FakeUpstreamTest {
    private static FakeUpstream upstream;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start(0, List.of("fake-chat", "fake-embed"), FakeBehaviour.DEFAULT);
    }

    @AfterAll
    static void stop() {
        upstream.close();
    }

    @BeforeEach
    void resetBehaviour() {
        upstream.setBehaviour(FakeBehaviour.DEFAULT);
        upstream.setPrefixCacheBlocks(0);
        upstream.setStampTokens(false);
        upstream.reset();
    }

    @Test
    void aSimulatedPrefixCacheAnswersARepeatedPrefixSoonerAndReportsItAsCached() throws Exception {
        upstream.setPrefixCacheBlocks(1_000);
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(400));
        String system = "You are the accounting team's assistant; answer in one sentence. ".repeat(8); // 520 characters
        JsonObject first = new JsonObject().put("model", "fake-chat").put("messages", new JsonArray()
                .add(new JsonObject().put("role", "system").put("content", system))
                .add(new JsonObject().put("role", "user").put("content", "What is a ledger?")));
        long start = System.nanoTime();
        JsonObject cold = new JsonObject(post("/v1/chat/completions", first, Map.of()).body()).getJsonObject("usage");
        long coldMs = (System.nanoTime() - start) / 1_000_000;
        start = System.nanoTime();
        JsonObject warm = new JsonObject(post("/v1/chat/completions", first, Map.of()).body()).getJsonObject("usage");
        long warmMs = (System.nanoTime() - start) / 1_000_000;

        assertThat(cold.getJsonObject("prompt_tokens_details", new JsonObject()).getInteger("cached_tokens", 0)).isZero();
        int cached = warm.getJsonObject("prompt_tokens_details").getInteger("cached_tokens");
        assertThat(cached).as("8 of the prompt's 8 whole blocks, of 539 characters").isBetween(warm.getInteger("prompt_tokens") * 8 / 10,
                warm.getInteger("prompt_tokens"));
        assertThat(coldMs).isGreaterThanOrEqualTo(400);
        assertThat(warmMs).as("about 5 %% of the prefill remains").isLessThan(coldMs);
        assertThat(upstream.prefixCacheQueriesAndHits()).containsExactly(16, 8);
        assertThat(get("/metrics")).contains("vllm:prefix_cache_hits_total 8.0");
    }

    @Test
    void nonStreamedChatReportsUsageThatMatchesItsTokens() throws Exception {
        JsonObject answer = new JsonObject(post("/v1/chat/completions", chat(false, null), Map.of()).body());

        JsonObject usage = answer.getJsonObject("usage");
        assertThat(usage.getInteger("completion_tokens")).isEqualTo(16);
        assertThat(usage.getInteger("prompt_tokens")).isEqualTo(FakeTokens.count("Say hello to the gateway.\n") + 6);
        assertThat(usage.getInteger("total_tokens")).isEqualTo(usage.getInteger("prompt_tokens") + 16);
        assertThat(answer.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
                .isNotBlank();
    }

    @Test
    void theSamePromptAlwaysYieldsTheSameAnswer() throws Exception {
        String first = new JsonObject(post("/v1/chat/completions", chat(false, 8L), Map.of()).body())
                .getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
        String second = new JsonObject(post("/v1/chat/completions", chat(false, 8L), Map.of()).body())
                .getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");

        assertThat(first).isEqualTo(second);
    }

    @Test
    void streamWithIncludeUsageEndsWithAUsageOnlyChunkAsVllmDoes() throws Exception {
        JsonObject request = chat(true, 5L).put("stream_options", new JsonObject().put("include_usage", true));

        List<String> events = dataLines(post("/v1/chat/completions", request, Map.of()).body());

        assertThat(events.getLast()).isEqualTo("[DONE]");
        JsonObject usageChunk = new JsonObject(events.get(events.size() - 2));
        assertThat(usageChunk.getJsonArray("choices")).isEmpty();
        assertThat(usageChunk.getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(5);
        long contentChunks = events.stream().filter(e -> e.contains("\"content\":\"") && !e.contains("\"content\":\"\"")).count();
        assertThat(contentChunks).isEqualTo(5);
        JsonObject finishChunk = new JsonObject(events.get(events.size() - 3));
        assertThat(finishChunk.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("length");
        assertThat(finishChunk.containsKey("usage")).as("content chunks carry usage: null").isTrue();
    }

    @Test
    void stampedContentChunksCarryTheMonotonicClockWhenTheyWereWritten() throws Exception {
        upstream.setStampTokens(true);
        long before = System.nanoTime();

        List<String> events = dataLines(post("/v1/chat/completions", chat(true, 4L), Map.of()).body());

        long after = System.nanoTime();
        List<Long> stamps = events.stream().filter(e -> e.contains("\"x_sent_ns\"")).map(e -> new JsonObject(e).getLong("x_sent_ns")).toList();
        assertThat(stamps).hasSize(4).isSorted().allSatisfy(stamp -> assertThat(stamp).isBetween(before, after));
        assertThat(events).filteredOn(e -> !e.contains("\"content\":\"") || e.contains("\"content\":\"\""))
                .noneMatch(e -> e.contains("x_sent_ns"));
    }

    @Test
    void streamWithoutIncludeUsageCarriesNoUsage() throws Exception {
        List<String> events = dataLines(post("/v1/chat/completions", chat(true, null), Map.of()).body());

        assertThat(events).noneMatch(e -> e.contains("\"usage\""));
        assertThat(events.getLast()).isEqualTo("[DONE]");
    }

    @Test
    void streamedCompletionsUseTheTextCompletionShape() throws Exception {
        var request = new JsonObject().put("model", "fake-chat").put("prompt", "Once upon a time").put("stream", true)
                .put("max_tokens", 3).put("stream_options", new JsonObject().put("include_usage", true));

        List<String> events = dataLines(post("/v1/completions", request, Map.of()).body());

        assertThat(new JsonObject(events.getFirst()).getString("object")).isEqualTo("text_completion");
        assertThat(new JsonObject(events.get(events.size() - 2)).getJsonObject("usage").getInteger("prompt_tokens"))
                .isEqualTo(4);
    }

    @Test
    void anUnknownModelGets404InTheOpenAiErrorShape() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", chat(false, null).put("model", "gpt-9"), Map.of());

        assertThat(response.statusCode()).isEqualTo(404);
        JsonObject error = new JsonObject(response.body()).getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("model_not_found");
        assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    }

    @Test
    void aConfiguredFailureStatusIsAnsweredWithAnErrorBody() throws Exception {
        HttpResponse<String> response = post("/v1/chat/completions", chat(false, null), Map.of("x-fake-fail-status", "503"));

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(response.body()).getJsonObject("error").getString("type")).isEqualTo("server_error");
        assertThat(upstream.requests().getLast().outcome()).isEqualTo(RecordedRequest.Outcome.FAILED);
    }

    @Test
    void aMidStreamDisconnectClosesTheConnectionAfterTheConfiguredTokens() {
        var headers = Map.of("x-fake-disconnect-after-tokens", "3");

        try {
            post("/v1/chat/completions", chat(true, null), headers);
        } catch (Exception expected) {
            // the JDK client reports the truncated chunked body as an I/O error
        }

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            RecordedRequest recorded = upstream.requests().getLast();
            assertThat(recorded.outcome()).isEqualTo(RecordedRequest.Outcome.DISCONNECTED);
            assertThat(recorded.tokensSent()).isEqualTo(3);
        });
    }

    @Test
    void aClientThatGoesAwayMidStreamIsRecordedAsCancelled() throws Exception {
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withInterTokenDelayMs(50).withCompletionTokens(1000));
        String body = chat(true, null).encode();
        try (var socket = new Socket("127.0.0.1", upstream.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer pool-credential\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            var reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int tokenLines = 0;
            for (String line = reader.readLine(); line != null && tokenLines < 3; line = reader.readLine()) {
                if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                    tokenLines++;
                }
            }
        }

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(upstream.cancelledRequests()).singleElement().satisfies(r -> {
                    assertThat(r.tokensSent()).isBetween(3, 10);
                    assertThat(r.header("Authorization")).isEqualTo("Bearer pool-credential");
                }));
        assertThat(upstream.runningRequests()).isZero();
    }

    @Test
    void metricsExposeRunningAndWaitingRequestsLikeVllm() throws Exception {
        upstream.setBehaviour(FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(500).withMaxRunningRequests(1));
        var inFlight = new ArrayList<CompletableFuture<HttpResponse<String>>>();
        for (int i = 0; i < 3; i++) {
            inFlight.add(HTTP.sendAsync(request("/v1/chat/completions", chat(false, null), Map.of()),
                    HttpResponse.BodyHandlers.ofString()));
        }

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(get("/metrics"))
                .contains("vllm:num_requests_running{model_name=\"fake-chat\"} 1.0")
                .contains("vllm:num_requests_waiting{model_name=\"fake-chat\"} 2.0"));
        for (var response : inFlight) {
            assertThat(response.get().statusCode()).isEqualTo(200);
        }
        assertThat(get("/metrics")).contains("vllm:num_requests_waiting{model_name=\"fake-chat\"} 0.0");
    }

    @Test
    void embeddingsAreDeterministicVectorsWithUsage() throws Exception {
        var request = new JsonObject().put("model", "fake-embed").put("input", new JsonArray().add("a b c").add("d"))
                .put("dimensions", 4);

        JsonObject answer = new JsonObject(post("/v1/embeddings", request, Map.of()).body());

        assertThat(answer.getJsonArray("data")).hasSize(2);
        assertThat(answer.getJsonArray("data").getJsonObject(0).getJsonArray("embedding")).hasSize(4);
        assertThat(answer.getJsonObject("usage").getInteger("prompt_tokens")).isEqualTo(4);
    }

    @Test
    void modelsListsTheConfiguredModels() throws Exception {
        JsonObject models = new JsonObject(get("/v1/models"));

        assertThat(models.getJsonArray("data").stream().map(m -> ((JsonObject) m).getString("id")))
                .containsExactly("fake-chat", "fake-embed");
    }

    private static JsonObject chat(boolean stream, Long maxTokens) {
        var request = new JsonObject().put("model", "fake-chat").put("stream", stream)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Say hello to the gateway.")));
        if (maxTokens != null) {
            request.put("max_tokens", maxTokens);
        }
        return request;
    }

    private static HttpRequest request(String path, JsonObject body, Map<String, String> headers) {
        var builder = HttpRequest.newBuilder(URI.create(upstream.baseUrl() + path))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
        headers.forEach(builder::header);
        return builder.build();
    }

    private static HttpResponse<String> post(String path, JsonObject body, Map<String, String> headers) throws Exception {
        return HTTP.send(request(path, body, headers), HttpResponse.BodyHandlers.ofString());
    }

    private static String get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(upstream.baseUrl() + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static List<String> dataLines(String sse) {
        return sse.lines().filter(line -> line.startsWith("data: ")).map(line -> line.substring(6)).toList();
    }
}
