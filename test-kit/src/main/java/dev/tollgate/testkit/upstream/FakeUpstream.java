package dev.tollgate.testkit.upstream;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fake OpenAI-compatible inference server (vLLM-like) for tests, the dev stack and benchmarks.
 *
 * <p>Serves {@code /v1/chat/completions}, {@code /v1/completions}, {@code /v1/responses} (OpenAI's
 * Responses API) and {@code /v1/messages} (Anthropic's Messages API, as vLLM serves it), each streamed
 * by SSE in its API's events or not, {@code /v1/embeddings}, {@code /v1/rerank} (also at {@code /v2/rerank}) and {@code /v1/score}
 * (vLLM's shapes), {@code /v1/models}, {@code /health} and
 * {@code /metrics} with vLLM's
 * {@code vllm:num_requests_running} / {@code vllm:num_requests_waiting} gauges. Tokens are
 * deterministic ({@link FakeTokens}); timing and failures follow {@link FakeBehaviour}. Every request
 * is recorded with its headers, body and outcome (completed, failed, disconnected, cancelled by the
 * client), so that tests can assert what a gateway forwarded and that it cancelled a stream.
 *
 * <p>Run it alone with {@code java ... FakeUpstream --port 8000 --models m1,m2 --inter-token-ms 20}.
 */
public final class FakeUpstream implements AutoCloseable {
    /** Requests kept for inspection; older ones are forgotten first. */
    public static final int MAX_RECORDED_REQUESTS = 10_000;
    private static final int MAX_BODY_BYTES = 8 * 1024 * 1024;
    private static final long MAX_AUDIO_BYTES = 32L * 1024 * 1024;
    /** Bytes of audio a second: 16 kHz, 16-bit mono PCM, what speech models take. */
    static final int AUDIO_BYTES_PER_SECOND = 32_000;

    private final Vertx vertx;
    private final boolean ownsVertx;
    private final Set<String> models;
    private volatile FakeBehaviour behaviour;
    private HttpServer server;
    private Context context;

    private final Map<String, RecordedRequest> recorded = new ConcurrentHashMap<>();
    private final ConcurrentLinkedDeque<String> recordedOrder = new ConcurrentLinkedDeque<>();
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
    private volatile FakePrefixCache prefixCache;
    /** Whether each content chunk carries {@code "x_sent_ns"}: this host's monotonic clock when it was written (benchmarks). */
    private volatile boolean stampTokens;
    private final Map<String, AtomicInteger> waiting = new ConcurrentHashMap<>();
    /** Requests waiting for a running slot; touched only on the server's event loop. */
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private int runningTotal;

    private FakeUpstream(Vertx vertx, boolean ownsVertx, Collection<String> models, FakeBehaviour behaviour) {
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
        this.models = Set.copyOf(models);
        this.behaviour = behaviour;
    }

    /** Starts on {@code 127.0.0.1:port} (0 for a free port) with its own Vert.x instance; blocks until listening. */
    public static FakeUpstream start(int port, Collection<String> models, FakeBehaviour behaviour) {
        return start(Vertx.vertx(), true, "127.0.0.1", port, models, behaviour);
    }

    /** Starts on {@code host:port} using {@code vertx}; blocks until listening. */
    public static FakeUpstream start(Vertx vertx, boolean ownsVertx, String host, int port, Collection<String> models,
                                     FakeBehaviour behaviour) {
        var upstream = new FakeUpstream(vertx, ownsVertx, models, behaviour);
        upstream.context = vertx.getOrCreateContext();
        var started = new CompletableFuture<HttpServer>();
        upstream.context.runOnContext(v -> vertx.createHttpServer(new HttpServerOptions().setIdleTimeout(0))
                .requestHandler(upstream.router())
                .listen(port, host)
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        started.complete(ar.result());
                    } else {
                        started.completeExceptionally(ar.cause());
                    }
                }));
        try {
            upstream.server = started.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the fake upstream", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot start the fake upstream on " + host + ":" + port, e);
        }
        return upstream;
    }

    /** The port it listens on. */
    public int port() {
        return server.actualPort();
    }

    /** {@code http://127.0.0.1:port} (append {@code /v1} for an OpenAI client). */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Changes the defaults for requests that arrive from now on. */
    public void setBehaviour(FakeBehaviour behaviour) {
        this.behaviour = behaviour;
    }

    /** The current defaults. */
    public FakeBehaviour behaviour() {
        return behaviour;
    }

    /** Recorded requests, oldest first (at most {@link #MAX_RECORDED_REQUESTS}). */
    public List<RecordedRequest> requests() {
        var result = new ArrayList<RecordedRequest>();
        for (String id : recordedOrder) {
            RecordedRequest request = recorded.get(id);
            if (request != null) {
                result.add(request);
            }
        }
        return result;
    }

    /** Requests whose client went away before the answer was complete. */
    public List<RecordedRequest> cancelledRequests() {
        return requests().stream().filter(r -> r.outcome() == RecordedRequest.Outcome.CANCELLED).toList();
    }

    /** Forgets every recorded request. */
    public void reset() {
        recordedOrder.clear();
        recorded.clear();
    }

    /** Requests generating right now, over all models. */
    public int runningRequests() {
        return running.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            if (ownsVertx) {
                vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot stop the fake upstream", e);
        }
    }

    private Router router() {
        Router router = Router.router(vertx);
        // Audio arrives as a multipart upload, spooled to disk (the body handler after this one sees it was read).
        router.post("/v1/audio/*").handler(BodyHandler.create(System.getProperty("java.io.tmpdir") + "/fake-upstream-uploads")
                .setBodyLimit(MAX_AUDIO_BYTES).setDeleteUploadedFilesOnEnd(true));
        router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.get("/v1/models").handler(this::models);
        router.post("/v1/chat/completions").handler(ctx -> generate(ctx, Api.CHAT));
        router.post("/v1/completions").handler(ctx -> generate(ctx, Api.COMPLETION));
        router.post("/v1/responses").handler(ctx -> generate(ctx, Api.RESPONSES));
        router.post("/v1/messages").handler(ctx -> generate(ctx, Api.MESSAGES));
        router.post("/v1/embeddings").handler(this::embeddings);
        router.post("/v1/rerank").handler(this::rerank);
        router.post("/v2/rerank").handler(this::rerank);
        router.post("/v1/score").handler(this::score);
        router.post("/v1/audio/transcriptions").handler(ctx -> audio(ctx, "transcribe"));
        router.post("/v1/audio/translations").handler(ctx -> audio(ctx, "translate"));
        router.get("/health").handler(ctx -> ctx.response().end());
        router.get("/metrics").handler(this::metrics);
        router.get("/_fake/requests").handler(ctx -> ctx.json(new JsonArray(requests().stream().map(this::toJson).toList())));
        router.post("/_fake/reset").handler(ctx -> {
            reset();
            ctx.response().setStatusCode(204).end();
        });
        router.put("/_fake/behaviour").handler(this::putBehaviour);
        return router;
    }

    private enum Api { CHAT, COMPLETION, RESPONSES, MESSAGES }

    private void models(RoutingContext ctx) {
        var data = new JsonArray();
        models.stream().sorted().forEach(model -> data.add(new JsonObject()
                .put("id", model).put("object", "model").put("created", 1_700_000_000L).put("owned_by", "tollgate-fake")));
        ctx.json(new JsonObject().put("object", "list").put("data", data));
    }

    private void generate(RoutingContext ctx, Api api) {
        JsonObject body = parseBody(ctx);
        if (body == null) {
            return;
        }
        String model = body.getString("model");
        if (!checkModel(ctx, model)) {
            return;
        }
        FakeBehaviour b;
        try {
            b = behaviour.overriddenBy(ctx.request().headers());
        } catch (IllegalArgumentException e) {
            error(ctx, 400, "invalid_request_error", null, e.getMessage());
            return;
        }
        String prompt = switch (api) {
            case CHAT -> chatPrompt(body);
            case COMPLETION -> completionPrompt(body);
            case RESPONSES -> responsesPrompt(body);
            case MESSAGES -> messagesPrompt(body);
        };
        int promptTokens = switch (api) {
            case CHAT, MESSAGES -> FakeTokens.count(prompt) + 3 * body.getJsonArray("messages", new JsonArray()).size() + 3;
            case RESPONSES -> FakeTokens.count(prompt) + (body.getValue("input") instanceof JsonArray items ? 3 * items.size() : 3) + 3;
            case COMPLETION -> FakeTokens.count(prompt);
        };
        FakePrefixCache cache = prefixCache;
        if (cache != null) { // a prefix hit shortens the prefill, as a model server's prefix cache does
            double cached = cache.lookUp(prompt);
            b = b.withTimeToFirstTokenMs(Math.round(b.timeToFirstTokenMs() * (1 - cached)))
                    .withCachedPromptTokens((int) Math.floor(promptTokens * cached));
        }
        Long maxTokens = api == Api.RESPONSES ? body.getLong("max_output_tokens")
                : body.getLong("max_completion_tokens", body.getLong("max_tokens"));
        int tokens = maxTokens == null ? b.completionTokens() : (int) Math.min(b.completionTokens(), maxTokens);
        boolean capped = maxTokens != null && maxTokens <= b.completionTokens();
        var generation = new Generation(ctx, api, record(ctx), model, prompt, promptTokens, tokens, capped, b,
                body.getBoolean("stream", false),
                body.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false), reasons(api, body),
                api == Api.MESSAGES && marksCache(body));
        admit(model, b.maxRunningRequests(), generation::start);
    }

    /**
     * Whether the request asks the model to reason ({@code reasoning_effort} in chat, {@code reasoning} in the Responses
     * API): then half the tokens it generates are reported as reasoning, as a reasoning model reports its thinking.
     */
    private static boolean reasons(Api api, JsonObject body) {
        return api == Api.CHAT && body.getValue("reasoning_effort") != null || api == Api.RESPONSES && body.getValue("reasoning") != null;
    }

    /**
     * Whether a Messages request marks a block with {@code cache_control} (system or message content): then the prompt
     * not read from the cache is reported as written to it, as Anthropic reports {@code cache_creation_input_tokens}.
     */
    private static boolean marksCache(JsonObject body) {
        var blocks = new ArrayList<Object>();
        if (body.getValue("system") instanceof JsonArray system) {
            system.forEach(blocks::add);
        }
        for (Object message : body.getJsonArray("messages", new JsonArray())) {
            if (message instanceof JsonObject m && m.getValue("content") instanceof JsonArray content) {
                content.forEach(blocks::add);
            }
        }
        return blocks.stream().anyMatch(block -> block instanceof JsonObject b && b.getValue("cache_control") != null);
    }

    /** Runs {@code start} now if a slot is free, else queues it (vLLM's "waiting" requests). */
    private void admit(String model, int maxRunning, Runnable start) {
        if (runningTotal < maxRunning) {
            runningTotal++;
            running.computeIfAbsent(model, m -> new AtomicInteger()).incrementAndGet();
            start.run();
        } else {
            AtomicInteger waitingForModel = waiting.computeIfAbsent(model, m -> new AtomicInteger());
            waitingForModel.incrementAndGet();
            queue.add(() -> {
                waitingForModel.decrementAndGet();
                admit(model, maxRunning, start);
            });
        }
    }

    private void release(String model) {
        runningTotal--;
        running.get(model).decrementAndGet();
        Runnable next = queue.poll();
        if (next != null) {
            next.run();
        }
    }

    /** One request being answered; lives on the server's event loop. */
    private final class Generation {
        private final RoutingContext ctx;
        private final Api api;
        private final String requestId;
        private final String model;
        private final String prompt;
        private final int promptTokens;
        private final int completionTokens;
        private final boolean capped;
        private final FakeBehaviour behaviour;
        private final boolean stream;
        private final boolean includeUsage;
        private final boolean reasons;
        private final boolean writesCache;
        private final String completionId;
        private final long created = Instant.now().getEpochSecond();
        private int sent;
        private int sequence;
        private long timer = -1;
        private boolean finished;

        Generation(RoutingContext ctx, Api api, String requestId, String model, String prompt, int promptTokens,
                   int completionTokens, boolean capped, FakeBehaviour behaviour, boolean stream, boolean includeUsage, boolean reasons,
                   boolean writesCache) {
            this.ctx = ctx;
            this.api = api;
            this.requestId = requestId;
            this.model = model;
            this.prompt = prompt;
            this.promptTokens = promptTokens;
            this.completionTokens = completionTokens;
            this.capped = capped;
            this.behaviour = behaviour;
            this.stream = stream;
            this.includeUsage = includeUsage;
            this.reasons = reasons;
            this.writesCache = writesCache;
            this.completionId = switch (api) {
                case CHAT -> "chatcmpl-fake-";
                case COMPLETION -> "cmpl-fake-";
                case RESPONSES -> "resp_fake";
                case MESSAGES -> "msg_fake";
            } + requestId;
        }

        void start() {
            ctx.response().closeHandler(v -> {
                if (!finished) {
                    finish(RecordedRequest.Outcome.CANCELLED);
                }
            });
            later(behaviour.timeToFirstTokenMs(), this::firstByte);
        }

        private void firstByte() {
            if (finished) {
                return;
            }
            if (behaviour.failStatus() > 0) {
                finish(RecordedRequest.Outcome.FAILED);
                error(ctx, behaviour.failStatus(), behaviour.failStatus() >= 500 ? "server_error" : "invalid_request_error",
                        null, "fake upstream failure (status " + behaviour.failStatus() + ")");
                return;
            }
            if (!stream) {
                sent = completionTokens;
                finish(RecordedRequest.Outcome.COMPLETED);
                ctx.json(switch (api) {
                    case RESPONSES -> response("completed", true);
                    case MESSAGES -> message(true);
                    default -> completeAnswer();
                });
                return;
            }
            HttpServerResponse response = ctx.response();
            response.setChunked(true)
                    .putHeader("content-type", "text/event-stream; charset=utf-8")
                    .putHeader("cache-control", "no-cache");
            switch (api) {
                case CHAT -> response.write(sse(chunk(new JsonObject().put("role", "assistant").put("content", ""), null)));
                case RESPONSES -> {
                    response.write(sse("response.created", event("response.created").put("response", response("in_progress", false))));
                    response.write(sse("response.output_item.added", event("response.output_item.added").put("output_index", 0)
                            .put("item", outputMessage("in_progress", ""))));
                    response.write(sse("response.content_part.added", part("response.content_part.added", "")));
                }
                case MESSAGES -> {
                    response.write(sse("message_start", new JsonObject().put("type", "message_start").put("message", message(false))));
                    response.write(sse("content_block_start", new JsonObject().put("type", "content_block_start").put("index", 0)
                            .put("content_block", new JsonObject().put("type", "text").put("text", ""))));
                }
                default -> { }
            }
            nextToken();
        }

        private void nextToken() {
            if (finished) {
                return;
            }
            HttpServerResponse response = ctx.response();
            if (behaviour.disconnectAfterTokens() >= 0 && sent >= behaviour.disconnectAfterTokens()) {
                finish(RecordedRequest.Outcome.DISCONNECTED);
                ctx.request().connection().close();
                return;
            }
            if (sent == completionTokens && api == Api.RESPONSES) {
                String text = text();
                response.write(sse("response.output_text.done", event("response.output_text.done").put("item_id", itemId())
                        .put("output_index", 0).put("content_index", 0).put("text", text)));
                response.write(sse("response.content_part.done", part("response.content_part.done", text)));
                response.write(sse("response.output_item.done", event("response.output_item.done").put("output_index", 0)
                        .put("item", outputMessage("completed", text))));
                String status = capped ? "incomplete" : "completed";
                finish(RecordedRequest.Outcome.COMPLETED);
                response.end(sse("response." + status, event("response." + status).put("response", response(status, true))));
                return;
            }
            if (sent == completionTokens && api == Api.MESSAGES) {
                response.write(sse("content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", 0)));
                response.write(sse("message_delta", new JsonObject().put("type", "message_delta")
                        .put("delta", new JsonObject().put("stop_reason", capped ? "max_tokens" : "end_turn").put("stop_sequence", null))
                        .put("usage", new JsonObject().put("output_tokens", sent))));
                finish(RecordedRequest.Outcome.COMPLETED);
                response.end(sse("message_stop", new JsonObject().put("type", "message_stop")));
                return;
            }
            if (sent == completionTokens) {
                String finishReason = capped ? "length" : "stop";
                response.write(sse(chunk(api == Api.CHAT ? new JsonObject() : null, finishReason)));
                if (includeUsage && !behaviour.omitUsage()) {
                    response.write(sse(baseChunk().put("choices", new JsonArray()).put("usage", usage())));
                }
                finish(RecordedRequest.Outcome.COMPLETED);
                response.end("data: [DONE]\n\n");
                return;
            }
            String token = FakeTokens.token(model, prompt, sent);
            boolean thinking = sent < reasoningTokens(); // a reasoning model thinks first, streamed as vLLM streams it
            sent++;
            update(RecordedRequest.Outcome.IN_PROGRESS);
            switch (api) {
                case RESPONSES -> response.write(sse("response.output_text.delta", event("response.output_text.delta")
                        .put("item_id", itemId()).put("output_index", 0).put("content_index", 0).put("delta", token)));
                case MESSAGES -> response.write(sse("content_block_delta", new JsonObject().put("type", "content_block_delta")
                        .put("index", 0).put("delta", new JsonObject().put("type", "text_delta").put("text", token))));
                default -> {
                    JsonObject chunk = chunk(api == Api.CHAT ? new JsonObject().put(thinking ? "reasoning_content" : "content", token) : null,
                            null, token);
                    if (stampTokens) {
                        chunk.put("x_sent_ns", System.nanoTime());
                    }
                    response.write(sse(chunk));
                }
            }
            if (response.writeQueueFull()) {
                // Backpressure: a slow reader pauses generation instead of growing a buffer.
                response.drainHandler(v -> later(behaviour.interTokenDelayMs(), this::nextToken));
            } else {
                later(behaviour.interTokenDelayMs(), this::nextToken);
            }
        }

        private JsonObject chunk(JsonObject delta, String finishReason) {
            return chunk(delta, finishReason, "");
        }

        private JsonObject chunk(JsonObject delta, String finishReason, String text) {
            var choice = new JsonObject().put("index", 0);
            if (api == Api.CHAT) {
                choice.put("delta", delta);
            } else {
                choice.put("text", text);
            }
            choice.put("logprobs", null).put("finish_reason", finishReason);
            JsonObject chunk = baseChunk().put("choices", new JsonArray().add(choice));
            if (includeUsage) {
                chunk.put("usage", null);
            }
            return chunk;
        }

        private JsonObject baseChunk() {
            return new JsonObject().put("id", completionId)
                    .put("object", api == Api.CHAT ? "chat.completion.chunk" : "text_completion")
                    .put("created", created).put("model", model);
        }

        /** The first {@code sent} tokens of the answer. */
        private String text() {
            var text = new StringBuilder();
            for (int i = 0; i < sent; i++) {
                text.append(FakeTokens.token(model, prompt, i));
            }
            return text.toString();
        }

        /** A Responses API stream event of {@code type}, numbered in order. */
        private JsonObject event(String type) {
            return new JsonObject().put("type", type).put("sequence_number", sequence++);
        }

        private String itemId() {
            return "msg_" + completionId;
        }

        private JsonObject part(String type, String text) {
            return event(type).put("item_id", itemId()).put("output_index", 0).put("content_index", 0)
                    .put("part", new JsonObject().put("type", "output_text").put("text", text).put("annotations", new JsonArray()));
        }

        private JsonObject outputMessage(String status, String text) {
            var content = new JsonArray();
            if (!status.equals("in_progress")) {
                content.add(new JsonObject().put("type", "output_text").put("text", text).put("annotations", new JsonArray()));
            }
            return new JsonObject().put("id", itemId()).put("type", "message").put("status", status).put("role", "assistant")
                    .put("content", content);
        }

        /** A Responses API response object; with its output and usage once {@code withOutput}. */
        private JsonObject response(String status, boolean withOutput) {
            JsonObject response = new JsonObject().put("id", completionId).put("object", "response").put("created_at", created)
                    .put("status", status).put("model", model).put("store", false)
                    .put("output", withOutput ? new JsonArray().add(outputMessage("completed", text())) : new JsonArray())
                    .put("instructions", null).put("metadata", new JsonObject()).put("temperature", 1.0).put("top_p", 1.0)
                    .put("parallel_tool_calls", true).put("tool_choice", "auto").put("tools", new JsonArray())
                    .put("error", null)
                    .put("incomplete_details", status.equals("incomplete") ? new JsonObject().put("reason", "max_output_tokens") : null);
            if (withOutput && !behaviour.omitUsage()) {
                int cached = Math.min(behaviour.cachedPromptTokens(), promptTokens);
                response.put("usage", new JsonObject().put("input_tokens", promptTokens)
                        .put("input_tokens_details", new JsonObject().put("cached_tokens", cached))
                        .put("output_tokens", sent)
                        .put("output_tokens_details", new JsonObject().put("reasoning_tokens", reasoning()))
                        .put("total_tokens", promptTokens + sent));
            } else {
                response.put("usage", null);
            }
            return response;
        }

        /**
         * A Messages API message; with its content and final usage once {@code whole}, else as {@code message_start}
         * gives it (no content, one output token). Anthropic's {@code input_tokens} leaves out the cached prompt.
         */
        private JsonObject message(boolean whole) {
            int cached = Math.min(behaviour.cachedPromptTokens(), promptTokens);
            int written = writesCache ? promptTokens - cached : 0;
            var usage = new JsonObject().put("input_tokens", promptTokens - cached - written).put("cache_creation_input_tokens", written)
                    .put("cache_read_input_tokens", cached).put("output_tokens", whole ? sent : 1);
            return new JsonObject().put("id", completionId).put("type", "message").put("role", "assistant").put("model", model)
                    .put("content", whole ? new JsonArray().add(new JsonObject().put("type", "text").put("text", text())) : new JsonArray())
                    .put("stop_reason", whole ? (capped ? "max_tokens" : "end_turn") : null).put("stop_sequence", null)
                    .put("usage", behaviour.omitUsage() && whole ? null : usage);
        }

        private JsonObject completeAnswer() {
            var text = new StringBuilder();
            for (int i = 0; i < completionTokens; i++) {
                text.append(FakeTokens.token(model, prompt, i));
            }
            var choice = new JsonObject().put("index", 0);
            if (api == Api.CHAT) {
                choice.put("message", new JsonObject().put("role", "assistant").put("content", text.toString()));
            } else {
                choice.put("text", text.toString());
            }
            choice.put("logprobs", null).put("finish_reason", capped ? "length" : "stop");
            JsonObject answer = new JsonObject().put("id", completionId)
                    .put("object", api == Api.CHAT ? "chat.completion" : "text_completion")
                    .put("created", created).put("model", model).put("choices", new JsonArray().add(choice));
            if (!behaviour.omitUsage()) {
                answer.put("usage", usage());
            }
            return answer;
        }

        private JsonObject usage() {
            int cached = Math.min(behaviour.cachedPromptTokens(), promptTokens);
            return new JsonObject().put("prompt_tokens", promptTokens).put("completion_tokens", sent)
                    .put("total_tokens", promptTokens + sent)
                    .put("prompt_tokens_details", new JsonObject().put("cached_tokens", cached))
                    .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", reasoning()));
        }

        /** How many of the tokens to generate are reasoning: the first half, when the request asked to reason. */
        private int reasoningTokens() {
            return reasons ? completionTokens / 2 : 0;
        }

        /** The tokens sent that the answer reports as reasoning. */
        private int reasoning() {
            return Math.min(sent, reasoningTokens());
        }

        private void later(long delayMs, Runnable action) {
            if (delayMs <= 0) {
                context.runOnContext(v -> action.run());
            } else {
                timer = vertx.setTimer(delayMs, id -> {
                    timer = -1;
                    action.run();
                });
            }
        }

        private void finish(RecordedRequest.Outcome outcome) {
            finished = true;
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            update(outcome);
            release(model);
        }

        private void update(RecordedRequest.Outcome outcome) {
            recorded.computeIfPresent(requestId, (id, r) -> r.with(sent, outcome));
        }
    }

    private void embeddings(RoutingContext ctx) {
        JsonObject body = parseBody(ctx);
        if (body == null || !checkModel(ctx, body.getString("model"))) {
            return;
        }
        record(ctx);
        Object input = body.getValue("input");
        List<String> inputs = new ArrayList<>();
        if (input instanceof String s) {
            inputs.add(s);
        } else if (input instanceof JsonArray array) {
            array.forEach(item -> inputs.add(String.valueOf(item)));
        } else {
            error(ctx, 400, "invalid_request_error", "input", "'input' must be a string or an array");
            return;
        }
        int dimensions = body.getInteger("dimensions", 8);
        var data = new JsonArray();
        int tokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            var vector = new JsonArray();
            for (double value : FakeTokens.embedding(inputs.get(i), dimensions)) {
                vector.add(value);
            }
            data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", vector));
            tokens += FakeTokens.count(inputs.get(i));
        }
        ctx.json(new JsonObject().put("object", "list").put("data", data).put("model", body.getString("model"))
                .put("usage", new JsonObject().put("prompt_tokens", tokens).put("total_tokens", tokens)));
    }

    /** vLLM's rerank: each document's relevance to the query, best first (deterministic), and the tokens read. */
    private void rerank(RoutingContext ctx) {
        JsonObject body = parseBody(ctx);
        if (body == null || !checkModel(ctx, body.getString("model"))) {
            return;
        }
        record(ctx);
        if (!(body.getValue("query") instanceof String query) || !(body.getValue("documents") instanceof JsonArray documents)) {
            error(ctx, 400, "invalid_request_error", "documents", "'query' must be a string and 'documents' an array");
            return;
        }
        var results = new ArrayList<JsonObject>();
        int tokens = 0;
        for (int i = 0; i < documents.size(); i++) {
            Object document = documents.getValue(i);
            String text = document instanceof JsonObject d ? d.getString("text", "") : String.valueOf(document);
            tokens += FakeTokens.count(query) + FakeTokens.count(text);
            results.add(new JsonObject().put("index", i).put("document", new JsonObject().put("text", text))
                    .put("relevance_score", relevance(query, text)));
        }
        results.sort((a, b) -> Double.compare(b.getDouble("relevance_score"), a.getDouble("relevance_score")));
        int topN = body.getInteger("top_n", results.size());
        ctx.json(new JsonObject().put("id", "rerank-fake-" + ids.get()).put("model", body.getString("model"))
                .put("usage", new JsonObject().put("total_tokens", tokens))
                .put("results", new JsonArray(results.subList(0, Math.min(topN, results.size())))));
    }

    /**
     * vLLM's and OpenAI's speech to text: the part {@code file} heard as {@value #AUDIO_BYTES_PER_SECOND} bytes a second; a
     * transcription reports the seconds (rounded up) as {@code usage} of type {@code duration}, a translation none (as theirs
     * do); {@code verbose_json} adds the exact {@code duration}, {@code text} answers the text alone. The request is recorded as its form fields and the upload's name, size and SHA-256.
     */
    private void audio(RoutingContext ctx, String task) {
        var fields = new JsonObject();
        ctx.request().formAttributes().forEach(field -> fields.put(field.getKey(), field.getValue()));
        List<FileUpload> uploads = ctx.fileUploads();
        if (uploads.size() != 1 || !"file".equals(uploads.getFirst().name())) {
            record(ctx, new JsonObject().put("form", fields).encode());
            error(ctx, 400, "invalid_request_error", "file", "send the audio as one part named 'file'");
            return;
        }
        if (!checkModel(ctx, fields.getString("model"))) {
            return;
        }
        FileUpload upload = uploads.getFirst();
        vertx.fileSystem().readFile(upload.uploadedFileName()).onComplete(read -> {
            if (read.failed()) {
                error(ctx, 500, "server_error", null, "the upload could not be read");
                return;
            }
            String sha256 = sha256(read.result().getBytes());
            record(ctx, new JsonObject().put("form", fields).put("file", new JsonObject().put("name", upload.fileName())
                    .put("size", upload.size()).put("sha256", sha256)).encode());
            double duration = (double) upload.size() / AUDIO_BYTES_PER_SECOND;
            long seconds = (long) Math.ceil(duration);
            String text = (task.equals("translate") ? "Translated " : "Heard ") + seconds + " seconds of audio " + sha256.substring(0, 8) + ".";
            String format = fields.getString("response_format", "json");
            if (format.equals("text")) {
                ctx.response().putHeader("content-type", "text/plain; charset=utf-8").end(text + "\n");
                return;
            }
            var answer = new JsonObject();
            if (format.equals("verbose_json")) {
                answer.put("task", task).put("language", "english").put("duration", duration).put("segments", new JsonArray());
            }
            answer.put("text", text);
            if (task.equals("transcribe")) { // as OpenAI and vLLM answer: a translation reports no usage
                answer.put("usage", new JsonObject().put("type", "duration").put("seconds", seconds));
            }
            ctx.json(answer);
        });
    }

    /** The SHA-256 of {@code bytes}, in hex. */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** vLLM's score: {@code text_1} (one, or one per pair) against each of {@code text_2}, and the tokens read. */
    private void score(RoutingContext ctx) {
        JsonObject body = parseBody(ctx);
        if (body == null || !checkModel(ctx, body.getString("model"))) {
            return;
        }
        record(ctx);
        List<String> first = texts(body.getValue("text_1"));
        List<String> second = texts(body.getValue("text_2"));
        if (first.isEmpty() || second.isEmpty() || first.size() > 1 && first.size() != second.size()) {
            error(ctx, 400, "invalid_request_error", "text_2", "'text_1' must be one text or as many as 'text_2'");
            return;
        }
        var data = new JsonArray();
        int tokens = 0;
        for (int i = 0; i < second.size(); i++) {
            String left = first.size() == 1 ? first.getFirst() : first.get(i);
            tokens += FakeTokens.count(left) + FakeTokens.count(second.get(i));
            data.add(new JsonObject().put("index", i).put("object", "score").put("score", relevance(left, second.get(i))));
        }
        ctx.json(new JsonObject().put("id", "score-fake-" + ids.get()).put("object", "list").put("created", Instant.now().getEpochSecond())
                .put("model", body.getString("model")).put("data", data)
                .put("usage", new JsonObject().put("prompt_tokens", tokens).put("total_tokens", tokens).put("completion_tokens", 0)));
    }

    private static List<String> texts(Object value) {
        if (value instanceof String s) {
            return List.of(s);
        }
        var texts = new ArrayList<String>();
        if (value instanceof JsonArray array) {
            array.forEach(item -> texts.add(String.valueOf(item)));
        }
        return texts;
    }

    /** A deterministic score in [0, 1): the cosine of the two texts' fake embeddings, shifted. */
    private static double relevance(String a, String b) {
        double[] x = FakeTokens.embedding(a, 8);
        double[] y = FakeTokens.embedding(b, 8);
        double dot = 0;
        double xx = 0;
        double yy = 0;
        for (int i = 0; i < x.length; i++) {
            dot += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        double cosine = xx == 0 || yy == 0 ? 0 : dot / Math.sqrt(xx * yy);
        return Math.min(0.999_999, Math.round((cosine + 1) / 2 * 1e6) / 1e6);
    }

    private void metrics(RoutingContext ctx) {
        var text = new StringBuilder();
        text.append("# HELP vllm:num_requests_running Number of requests currently running on GPU.\n");
        text.append("# TYPE vllm:num_requests_running gauge\n");
        for (String model : models) {
            text.append("vllm:num_requests_running{model_name=\"").append(model).append("\"} ")
                    .append(running.getOrDefault(model, new AtomicInteger()).get()).append(".0\n");
        }
        text.append("# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n");
        text.append("# TYPE vllm:num_requests_waiting gauge\n");
        for (String model : models) {
            text.append("vllm:num_requests_waiting{model_name=\"").append(model).append("\"} ")
                    .append(waiting.getOrDefault(model, new AtomicInteger()).get()).append(".0\n");
        }
        FakePrefixCache cache = prefixCache;
        if (cache != null) {
            text.append("# HELP vllm:prefix_cache_queries Prompt blocks looked up in the prefix cache (blocks of 64 characters here).\n");
            text.append("# TYPE vllm:prefix_cache_queries counter\n");
            text.append("vllm:prefix_cache_queries_total ").append(cache.queriedBlocks()).append(".0\n");
            text.append("# HELP vllm:prefix_cache_hits Prompt blocks found in the prefix cache.\n");
            text.append("# TYPE vllm:prefix_cache_hits counter\n");
            text.append("vllm:prefix_cache_hits_total ").append(cache.hitBlocks()).append(".0\n");
        }
        ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(text.toString());
    }

    /**
     * Stamps every streamed content chunk with {@code "x_sent_ns"}, {@link System#nanoTime()} when it was written.
     * On Linux that is {@code CLOCK_MONOTONIC}, one clock for every process of the host, so a load generator on the
     * same host can measure each token's delivery latency through a proxy, not only the gaps between tokens.
     */
    public void setStampTokens(boolean stamp) {
        stampTokens = stamp;
    }

    /**
     * Simulates a prefix cache of {@code blocks} blocks of 64 prompt characters (0 turns it off): a
     * prompt whose leading blocks were seen lately answers its first token sooner by the cached share
     * and reports that share as {@code cached_tokens}; {@code /metrics} then counts queries and hits.
     */
    public void setPrefixCacheBlocks(int blocks) {
        prefixCache = blocks <= 0 ? null : new FakePrefixCache(blocks);
    }

    /** Prompt blocks looked up and found in the simulated prefix cache, or zeros when it is off. */
    public long[] prefixCacheQueriesAndHits() {
        FakePrefixCache cache = prefixCache;
        return cache == null ? new long[2] : new long[] {cache.queriedBlocks(), cache.hitBlocks()};
    }

    private void putBehaviour(RoutingContext ctx) {
        try {
            behaviour = ctx.body().asPojo(FakeBehaviour.class);
            ctx.response().setStatusCode(204).end();
        } catch (RuntimeException e) {
            error(ctx, 400, "invalid_request_error", null, "invalid behaviour: " + e.getMessage());
        }
    }

    private JsonObject parseBody(RoutingContext ctx) {
        try {
            JsonObject body = ctx.body().asJsonObject();
            if (body == null) {
                error(ctx, 400, "invalid_request_error", null, "request body must be a JSON object");
            }
            return body;
        } catch (DecodeException | ClassCastException e) {
            error(ctx, 400, "invalid_request_error", null, "request body is not valid JSON");
            return null;
        }
    }

    private boolean checkModel(RoutingContext ctx, String model) {
        if (model == null) {
            error(ctx, 400, "invalid_request_error", "model", "you must provide a model parameter");
            return false;
        }
        if (!models.contains(model)) {
            error(ctx, 404, "invalid_request_error", "model", "The model `" + model + "` does not exist.",
                    "model_not_found");
            return false;
        }
        return true;
    }

    private String record(RoutingContext ctx) {
        return record(ctx, ctx.body().asString());
    }

    /** Records the request with {@code body} as what it carried. */
    private String record(RoutingContext ctx, String body) {
        String id = Long.toString(ids.incrementAndGet());
        HttpServerRequest request = ctx.request();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        request.headers().forEach(h -> headers.computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                .add(h.getValue()));
        var recordedRequest = new RecordedRequest(id, request.method().name(), request.path(), headers,
                body, Instant.now(), 0, RecordedRequest.Outcome.IN_PROGRESS, null);
        recorded.put(id, recordedRequest);
        recordedOrder.add(id);
        while (recorded.size() > MAX_RECORDED_REQUESTS) { // the map's size is O(1); the deque's walks all 10,000 per request
            String oldest = recordedOrder.poll();
            if (oldest == null) {
                break;
            }
            recorded.remove(oldest);
        }
        return id;
    }

    private JsonObject toJson(RecordedRequest r) {
        return new JsonObject().put("id", r.id()).put("method", r.method()).put("path", r.path())
                .put("headers", new JsonObject(new LinkedHashMap<>(r.headers()))).put("body", r.body())
                .put("receivedAt", r.receivedAt().toString()).put("tokensSent", r.tokensSent())
                .put("outcome", r.outcome().name())
                .put("endedAt", r.endedAt() == null ? null : r.endedAt().toString());
    }

    private static String chatPrompt(JsonObject body) {
        var prompt = new StringBuilder();
        for (Object message : body.getJsonArray("messages", new JsonArray())) {
            if (message instanceof JsonObject m) {
                Object content = m.getValue("content");
                if (content instanceof String s) {
                    prompt.append(s).append('\n');
                } else if (content instanceof JsonArray parts) {
                    for (Object part : parts) {
                        if (part instanceof JsonObject p && p.getString("text") != null) {
                            prompt.append(p.getString("text")).append('\n');
                        }
                    }
                }
            }
        }
        return prompt.toString();
    }

    private static String completionPrompt(JsonObject body) {
        Object prompt = body.getValue("prompt");
        if (prompt instanceof JsonArray parts) {
            var joined = new StringBuilder();
            parts.forEach(part -> joined.append(part).append('\n'));
            return joined.toString();
        }
        return prompt == null ? "" : prompt.toString();
    }

    private static String sse(JsonObject data) {
        return "data: " + data.encode() + "\n\n";
    }

    /** An SSE event with its {@code event:} line, as the Responses and Messages APIs send them. */
    private static String sse(String event, JsonObject data) {
        return "event: " + event + "\ndata: " + data.encode() + "\n\n";
    }

    /** The Responses API's prompt: the instructions and the input, a string or items with text content. */
    private static String responsesPrompt(JsonObject body) {
        var prompt = new StringBuilder();
        if (body.getValue("instructions") instanceof String instructions) {
            prompt.append(instructions).append('\n');
        }
        Object input = body.getValue("input");
        if (input instanceof String s) {
            prompt.append(s).append('\n');
        } else if (input instanceof JsonArray items) {
            prompt.append(chatPrompt(new JsonObject().put("messages", items)));
        }
        return prompt.toString();
    }

    /** The Messages API's prompt: the system prompt (text or blocks) and the messages. */
    private static String messagesPrompt(JsonObject body) {
        var prompt = new StringBuilder();
        Object system = body.getValue("system");
        if (system instanceof String s) {
            prompt.append(s).append('\n');
        } else if (system instanceof JsonArray blocks) {
            prompt.append(chatPrompt(new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("content", blocks)))));
        }
        return prompt.append(chatPrompt(body)).toString();
    }

    private static void error(RoutingContext ctx, int status, String type, String param, String message) {
        error(ctx, status, type, param, message, null);
    }

    private static void error(RoutingContext ctx, int status, String type, String param, String message, String code) {
        if (ctx.response().ended() || ctx.response().headWritten()) {
            return;
        }
        JsonObject body = ctx.request().path().startsWith("/v1/messages")
                ? new JsonObject().put("type", "error").put("error", new JsonObject().put("type", status == 404 ? "not_found_error"
                        : status >= 500 ? "api_error" : "invalid_request_error").put("message", message))
                : new JsonObject().put("error", new JsonObject().put("message", message).put("type", type)
                        .put("param", param).put("code", code));
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }

    /** Runs the fake upstream as a standalone process until killed. */
    public static void main(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value pairs, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        FakeBehaviour behaviour = FakeBehaviour.DEFAULT
                .withTimeToFirstTokenMs(Long.parseLong(options.getOrDefault("ttft-ms", "0")))
                .withInterTokenDelayMs(Long.parseLong(options.getOrDefault("inter-token-ms", "0")))
                .withCompletionTokens(Integer.parseInt(options.getOrDefault("completion-tokens", "16")))
                .withMaxRunningRequests(Integer.parseInt(options.getOrDefault("max-running", String.valueOf(Integer.MAX_VALUE))));
        List<String> models = List.of(options.getOrDefault("models", "fake-chat,fake-embed").split(","));
        FakeUpstream upstream = start(Vertx.vertx(), true, options.getOrDefault("host", "127.0.0.1"),
                Integer.parseInt(options.getOrDefault("port", "8000")), models, behaviour);
        upstream.setPrefixCacheBlocks(Integer.parseInt(options.getOrDefault("prefix-cache-blocks", "0")));
        upstream.setStampTokens(Boolean.parseBoolean(options.getOrDefault("stamp-tokens", "false")));
        System.out.println("fake OpenAI-compatible upstream listening on " + upstream.baseUrl() + "/v1 models=" + models);
        Runtime.getRuntime().addShutdownHook(new Thread(upstream::close, "fake-upstream-stop"));
    }
}
