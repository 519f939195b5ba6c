package dev.tollgate.gateway.http;

import dev.tollgate.gateway.fleet.Heartbeats;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.auth.FailureThrottle;
import dev.tollgate.gateway.auth.Authenticator;
import dev.tollgate.gateway.auth.ClientAddresses;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.metrics.GatewayMetrics;
import dev.tollgate.gateway.proxy.InferenceProxy;
import dev.tollgate.gateway.proxy.StreamProgress;
import dev.tollgate.gateway.quota.Budgets;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.quota.UnpricedModels;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.surface.ApiSurface;
import dev.tollgate.gateway.surface.ApiSurfaces;
import dev.tollgate.gateway.surface.Audio;
import dev.tollgate.gateway.surface.Responses;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.HealthChecker;
import dev.tollgate.gateway.upstream.LoadScraper;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.key.KeyScopes;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The gateway's HTTP front: health, readiness, the model list and the inference endpoints (chat
 * completions, completions, embeddings) proxied by {@link InferenceProxy}. Every handler runs on an
 * event loop. Unknown URLs answer 404 in the OpenAI shape, as the OpenAI API does.
 */
public final class GatewayServer {
    static final String PRINCIPAL = "tollgate.principal";

    /** Largest request body accepted (413 beyond). */
    static final long MAX_BODY_BYTES = 4L * 1024 * 1024;

    private final Vertx vertx;
    private final StateDirectory state;
    private final Authenticator authenticator;
    private final Supplier<UpstreamConfig> upstreams;
    /** Makes one event loop's proxy around that loop's own HTTP client. */
    private final Function<HttpClient, InferenceProxy> proxies;
    private final GatewayMetrics metrics;
    private final Budgets budgets;
    private final RequestTelemetry telemetry;
    private final FailureThrottle authThrottle = FailureThrottle.authFailures();
    private final FailureThrottle refusals = FailureThrottle.refusals();
    /** Answers to an authenticated request that count against its key's and address's refusal budget. */
    private static final Set<Integer> REFUSALS = Set.of(400, 403, 404, 405, 408, 413, 415, 422);
    private volatile ClientAddresses clientAddresses = ClientAddresses.direct();
    private int maxIdlePerAddress = IdleConnections.DEFAULT_MAX_PER_ADDRESS;
    private IdleConnections idleConnections;
    private int eventLoops = defaultEventLoops();
    private Path uploadsDirectory = Path.of(System.getProperty("java.io.tmpdir"), "tollgate-uploads");
    private StreamProgress streamProgress = StreamProgress.DEFAULT;
    private final List<ServingLoop> loops = new CopyOnWriteArrayList<>();

    public GatewayServer(Vertx vertx, StateDirectory state, EndpointPool endpoints, UsageEmitter usage) {
        this(vertx, state, () -> endpoints, usage);
    }

    /** @param endpoints the current endpoints; an {@code UpstreamWatcher} replaces them when the file changes */
    public GatewayServer(Vertx vertx, StateDirectory state, Supplier<EndpointPool> endpoints, UsageEmitter usage) {
        this(vertx, state, endpoints, usage, new RateLimits(1, System::nanoTime));
    }

    /**
     * @param limits per-tenant and per-key rate and concurrency limits (with this gateway's share of the
     *               fleet); the daily and period budgets take the same share
     */
    public GatewayServer(Vertx vertx, StateDirectory state, Supplier<EndpointPool> endpoints, UsageEmitter usage, RateLimits limits) {
        this(vertx, state, endpoints, usage, limits, usage.openTelemetry());
    }

    /** @param openTelemetry makes the request and upstream spans (the usage emitter makes the event ones) */
    public GatewayServer(Vertx vertx, StateDirectory state, Supplier<EndpointPool> endpoints, UsageEmitter usage, RateLimits limits,
                         OpenTelemetry openTelemetry) {
        this.vertx = vertx;
        this.telemetry = new RequestTelemetry(openTelemetry);
        this.state = state;
        this.authenticator = new Authenticator(state);
        this.upstreams = () -> endpoints.get().config();
        // Health checks and load reads have their own client; each event loop has another for the requests it serves.
        var client = upstreamClient(vertx);
        // Daily and period budgets split what is left over the same live fleet as the rate limits (ADR 0009, 0020).
        this.budgets = new Budgets(state, state, usage.source(), limits::replicas, Instant::now);
        this.metrics = new GatewayMetrics(endpoints, usage, state);
        metrics.fleet(limits);
        var unpriced = new UnpricedModels(state, state, Instant::now);
        this.proxies = loopClient -> new InferenceProxy(vertx, loopClient, endpoints, usage, limits, budgets, unpriced, metrics, openTelemetry,
                streamProgress);
        HealthChecker.start(vertx, client, endpoints, 200);
        LoadScraper.start(vertx, client, endpoints, 100);
    }

    /** A client to the model servers; its connections live on the event loop that opened them. */
    private static HttpClient upstreamClient(Vertx vertx) {
        return vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(16_384));
    }

    /** One event loop per available processor, unless {@code TOLLGATE_GATEWAY_EVENT_LOOPS} says otherwise (GatewayMain). */
    public static int defaultEventLoops() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** A new connection must have sent a whole request head within this time (slowloris), else it is closed. */
    static final long HEADER_TIMEOUT_MS = 10_000;
    /**
     * A request body must have arrived this long after the head, plus a second per 64 KiB it declares
     * (a 4 MiB body: 84 s, about 50 KB/s), else 408: a body trickled a byte at a time (R.U.D.Y.) holds
     * a connection and a buffer no longer than that, although each byte resets the idle timeout.
     */
    static final long BODY_TIMEOUT_MS = 20_000;
    /** A connection with nothing read or written for this long is closed (longer than any first-byte timeout). */
    static final int IDLE_TIMEOUT_SECONDS = 120;

    private final Map<HttpConnection, Long> awaitingHead = new ConcurrentHashMap<>();
    /** Connections whose current request's framing was ambiguous: closed after its answer (RFC 9112 §6.1). */
    private final Set<HttpConnection> closeAfterAnswer = ConcurrentHashMap.newKeySet();

    /** Which peers are proxies whose {@code X-Forwarded-For} names the client (for throttling); none unless set. */
    public GatewayServer trustProxies(ClientAddresses addresses) {
        this.clientAddresses = addresses;
        return this;
    }

    /** Exports the health of this replica's fleet heartbeats at {@code /metrics}. */
    public GatewayServer monitor(Heartbeats heartbeats) {
        metrics.heartbeats(heartbeats);
        heartbeats.reportBalances(budgets::inFlight);
        return this;
    }

    /** At most {@code maxPerAddress} idle connections per client address ({@link IdleConnections}); call before {@link #listen}. */
    public GatewayServer capIdleConnections(int maxPerAddress) {
        this.maxIdlePerAddress = maxPerAddress;
        return this;
    }

    /** How often streams tell their progress ({@code tokens.streamed}); call before {@link #listen}. */
    public GatewayServer streamProgress(StreamProgress progress) {
        this.streamProgress = progress;
        return this;
    }

    /** Where audio uploads are spooled while their request runs (ADR 0031); call before {@link #listen}. */
    public GatewayServer uploadsDirectory(Path directory) {
        this.uploadsDirectory = directory;
        return this;
    }

    /** Serves on {@code loops} event loops (at least 1); call before {@link #listen}. */
    public GatewayServer eventLoops(int loops) {
        if (loops < 1) {
            throw new IllegalArgumentException("event loops must be at least 1, not " + loops);
        }
        this.eventLoops = loops;
        return this;
    }

    /**
     * Listens on {@code host:port} (0 for a free port) with one {@link ServingLoop} per configured event
     * loop, all on the same port (ADR 0025); the answer is the first loop's server.
     */
    public Future<HttpServer> listen(String host, int port) {
        idleConnections = new IdleConnections(maxIdlePerAddress, address -> clientAddresses.isTrustedProxy(address),
                metrics::idleConnectionCapped);
        // A free port is chosen once and shared by every loop: Vert.x does that for a negative port.
        int shared = port == 0 ? -1 : port;
        // Each loop on its own Netty event loop: deploying instances assigns loops round-robin from a counter that
        // every other context also advances, which put two instances on one thread (EventLoopsIT).
        List<ServingLoop> threads = new ArrayList<>();
        for (EventExecutor executor : ((VertxInternal) vertx).nettyEventLoopGroup()) {
            if (threads.size() == eventLoops) {
                break;
            }
            threads.add(new ServingLoop(host, shared, ((VertxInternal) vertx).contextBuilder().withEventLoop((EventLoop) executor).build()));
        }
        if (threads.size() < eventLoops) {
            throw new IllegalStateException(eventLoops + " event loops asked for, but Vert.x has " + threads.size()
                    + "; raise VertxOptions.eventLoopPoolSize");
        }
        loops.addAll(threads);
        Future<HttpServer> first = threads.getFirst().start();
        // The first loop binds (and picks the port); the others join it.
        return first.compose(server -> Future.all(threads.stream().skip(1).map(ServingLoop::start).toList()).map(all -> server));
    }

    /** The threads of the event loops serving requests (one per loop when Vert.x has enough of them). */
    public Set<String> servingThreads() {
        var threads = new TreeSet<String>();
        loops.forEach(loop -> threads.add(loop.thread));
        return threads;
    }

    /**
     * One event loop's share of the gateway: its own HTTP server on the shared port (Vert.x hands each
     * new connection to one loop in turn) and its own client to the model servers, so that a request's
     * client connection and its upstream connection live on the same thread and no token hops threads.
     * What the loops share (keys, limits, budgets, endpoint state, the spool, metrics) is thread-safe.
     */
    private final class ServingLoop {
        private final String host;
        private final int port;
        private final ContextInternal context;
        private volatile String thread;

        ServingLoop(String host, int port, ContextInternal context) {
            this.host = host;
            this.port = port;
            this.context = context;
        }

        /** Creates this loop's client, proxy, router and server on its own thread. */
        Future<HttpServer> start() {
            Promise<HttpServer> started = Promise.promise();
            context.runOnContext(v -> {
                thread = Thread.currentThread().getName();
                Router router = router(proxies.apply(upstreamClient(vertx)));
                // No cleartext HTTP/2 upgrade (h2c): OpenAI clients and Prometheus speak HTTP/1.1 here, and a JDK client's
                // upgrade attempt once got a large response it could not parse; HTTP/2 belongs behind TLS. No WebSocket
                // compression either: the gateway serves no WebSocket, and the extension handler sat in every connection's
                // pipeline, on the way of every streamed chunk (async-profiler, BENCHMARKS.md "Streams").
                vertx.createHttpServer(new HttpServerOptions().setMaxHeaderSize(16 * 1024).setMaxInitialLineLength(8 * 1024)
                                .setMaxFormAttributeSize(FORM_FIELD_BYTES)
                                .setHttp2ClearTextEnabled(false).setIdleTimeout(IDLE_TIMEOUT_SECONDS)
                                .setPerMessageWebSocketCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false))
                        .connectionHandler(GatewayServer.this::opened)
                        .requestHandler(request -> {
                            Long timer = awaitingHead.remove(request.connection());
                            if (timer != null) {
                                vertx.cancelTimer(timer);
                            }
                            idleConnections.active(request.connection());
                            if (!framedUnambiguously(request)) {
                                return;
                            }
                            router.handle(request);
                        })
                        .listen(port, host)
                        .onComplete(started);
            });
            return started.future();
        }
    }

    /**
     * Request smuggling (RFC 9112 §6.1, issue #19 item 8). A request with a transfer coding other than
     * plain {@code chunked} is answered 501 and its connection closed: its body would be read by
     * {@code Content-Length}, which a proxy in front may not have done. A chunked request is served,
     * and its connection closed after the answer: it may also have carried a {@code Content-Length}
     * (the HTTP decoder drops that header before the request reaches here), and bytes after its body must
     * never be read as another request. Requests already read behind it on that connection are not served.
     */
    private boolean framedUnambiguously(HttpServerRequest request) {
        HttpConnection connection = request.connection();
        if (closeAfterAnswer.contains(connection)) {
            connection.close(); // pipelined behind a request whose framing a proxy may have read differently
            return false;
        }
        String transferEncoding = request.getHeader("transfer-encoding");
        if (transferEncoding == null) {
            return true;
        }
        closeAfterAnswer.add(connection);
        request.response().putHeader("connection", "close");
        if (!transferEncoding.strip().equalsIgnoreCase("chunked")) {
            ErrorResponses.send(request, new GatewayError(501, "invalid_request_error", "unsupported_transfer_encoding",
                    "Only the chunked transfer coding is supported.", null)).onComplete(done -> connection.close());
            return false;
        }
        return true;
    }

    /**
     * Closes a connection that has not sent a complete request head in time, after it opened and after
     * each answer on it: a slow-headers attack holds nothing long, on a fresh or a keep-alive connection.
     */
    private void expectHeadSoon(HttpConnection connection) {
        long timer = vertx.setTimer(HEADER_TIMEOUT_MS, id -> {
            if (awaitingHead.remove(connection) != null) {
                metrics.slowClientClosed();
                connection.close();
            }
        });
        awaitingHead.put(connection, timer);
        idleConnections.idle(connection);
    }

    /** A new connection: its first head is due, and what is kept about it goes when it closes. */
    private void opened(HttpConnection connection) {
        connection.closeHandler(v -> {
            closeAfterAnswer.remove(connection);
            idleConnections.active(connection);
            Long pending = awaitingHead.remove(connection);
            if (pending != null) {
                vertx.cancelTimer(pending);
            }
        });
        expectHeadSoon(connection);
    }

    private static final String BODY_TIMER = "tollgate.body-timer";

    /** Answers 408 and closes the connection if the body has not arrived in time ({@link #BODY_TIMEOUT_MS}). */
    private void expectBodySoon(RoutingContext ctx) {
        long declared = 0;
        try {
            declared = Math.max(0, Long.parseLong(ctx.request().getHeader("content-length")));
        } catch (NumberFormatException e) {
            // chunked or absent: the base time only
        }
        long limit = BODY_TIMEOUT_MS + Math.min(declared, maxBodyBytes(ctx)) / (64 * 1024) * 1_000;
        long timer = vertx.setTimer(limit, id -> {
            if (!ctx.response().ended() && !ctx.response().headWritten()) {
                metrics.slowBodyRefused();
                var connection = ctx.request().connection();
                ctx.response().putHeader("connection", "close").endHandler(ended -> connection.close());
                ErrorResponses.send(ctx, new GatewayError(408, "invalid_request_error", "request_timeout",
                        "The request body did not arrive within " + limit / 1_000 + " seconds.", null));
            }
        });
        ctx.put(BODY_TIMER, timer);
        ctx.addEndHandler(done -> vertx.cancelTimer(timer));
        ctx.next();
    }

    /** The largest body a request to this path may have: an audio upload's, or a JSON body's. */
    private static long maxBodyBytes(RoutingContext ctx) {
        return Audio.PATHS.contains(ctx.normalizedPath()) ? Audio.MAX_UPLOAD_BYTES : MAX_BODY_BYTES;
    }

    /** The longest text field of a multipart form (Vert.x's default limit, made explicit). */
    static final int FORM_FIELD_BYTES = 8 * 1024;

    /** The paths of the APIs: OpenAI's and vLLM's under /v1, Cohere's rerank under /v2. */
    private static final List<String> API_PREFIXES = List.of("/v1/*", "/v2/*");

    Router router(InferenceProxy proxy) {
        Router router = Router.router(vertx);
        // Every request of a keep-alive connection, not only its first, must arrive whole within the head deadline.
        router.route().handler(ctx -> {
            HttpConnection connection = ctx.request().connection();
            ctx.addEndHandler(ended -> {
                if (closeAfterAnswer.contains(connection)) {
                    connection.close();
                } else {
                    expectHeadSoon(connection);
                }
            });
            ctx.next();
        });
        router.get("/healthz").handler(this::liveness);
        router.get("/readyz").handler(this::readiness);
        // Prometheus text format; no tenant or key labels (GatewayMetrics).
        router.get("/metrics").handler(this::metrics);
        for (String api : API_PREFIXES) { // every API request: telemetry, key, refusal budget; a POST's body within its deadline
            router.route(api).handler(telemetry::begin);
            router.route(api).handler(this::authenticate);
            router.route(api).handler(this::refusalBudget);
        }
        router.get("/v1/models").handler(this::models);
        router.get("/v1/models/:model").handler(this::model);
        // A JSON body is read into memory; an audio upload is spooled to disk as it arrives and removed when the answer ends.
        BodyHandler json = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
        BodyHandler upload = BodyHandler.create(uploadsDirectory.toString()).setBodyLimit(Audio.MAX_UPLOAD_BYTES)
                .setDeleteUploadedFilesOnEnd(true).setMergeFormAttributes(false);
        for (String api : API_PREFIXES) {
            router.post(api).handler(this::expectBodySoon);
            router.post(api).handler(ctx -> {
                if (!Audio.PATHS.contains(ctx.normalizedPath())) {
                    json.handle(ctx);
                } else if (String.valueOf(ctx.request().getHeader("content-type")).toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
                    upload.handle(ctx);
                } else { // refused before a byte of the body is read, so that no upload is ever buffered in memory
                    ErrorResponses.send(ctx, new GatewayError(400, "invalid_request_error", "invalid_content_type",
                            "Send the audio as multipart/form-data.", null));
                }
            });
            router.post(api).handler(ctx -> {
                vertx.cancelTimer(ctx.<Long>get(BODY_TIMER));
                ctx.next();
            });
        }
        for (ApiSurface surface : ApiSurfaces.ALL) {
            router.post(surface.path()).handler(ctx -> proxy.handle(ctx, ctx.get(PRINCIPAL), surface));
        }
        // Stored responses are not kept (ADR 0029): say so instead of "unknown URL".
        router.route(Responses.PATH + "/:id").handler(GatewayServer::noStoredResponses);
        router.route(Responses.PATH + "/:id/*").handler(GatewayServer::noStoredResponses);
        router.route().failureHandler(ctx -> ErrorResponses.send(ctx, failure(ctx)));
        router.route().last().handler(ctx -> ErrorResponses.send(ctx, new GatewayError(404, "invalid_request_error",
                "unknown_url", "Unknown request URL: " + ctx.request().method() + " " + ctx.request().path() + ".", null)));
        return router;
    }

    /** The answer to a request a handler failed: too large, a form that could not be read (ADR 0031), or the gateway's fault. */
    private static GatewayError failure(RoutingContext ctx) {
        if (ctx.statusCode() == 413) {
            return new GatewayError(413, "invalid_request_error", "request_too_large", "The request body is larger than "
                    + maxBodyBytes(ctx) + " bytes.", null);
        }
        if (ctx.statusCode() == 400) { // the body handler could not read the body
            return new GatewayError(400, "invalid_request_error", "invalid_body", "The request body could not be read (a form field"
                    + " longer than " + FORM_FIELD_BYTES + " bytes, or a malformed multipart body).", null);
        }
        return new GatewayError(500, "server_error", "internal_error", "The gateway failed to handle the request.", null);
    }

    private static void noStoredResponses(RoutingContext ctx) {
        ErrorResponses.send(ctx, new GatewayError(404, "invalid_request_error", "stored_responses_unsupported",
                "This gateway keeps no stored responses (it sends 'store: false'), so there is nothing to read, cancel or"
                        + " delete by id.", null));
    }

    private void readiness(RoutingContext ctx) {
        if (state.ready()) {
            ctx.json(new JsonObject().put("status", "READY"));
        } else {
            ctx.response().setStatusCode(503).putHeader("content-type", "application/json")
                    .end(new JsonObject().put("status", "CATCHING_UP").encode());
        }
    }

    private void authenticate(RoutingContext ctx) {
        if (!state.ready()) {
            ErrorResponses.send(ctx, GatewayError.notReady());
            return;
        }
        String authorization = ctx.request().getHeader("authorization");
        String apiKey = ctx.request().getHeader("x-api-key");
        if (authorization == null && apiKey != null && ApiSurfaces.acceptApiKeyHeader(ctx.request().path())) {
            authorization = "Bearer " + apiKey; // Anthropic's clients send the key so
        }
        // Verified first (one SHA-256): a valid key is never held back by anyone else's failures, not by a stranger
        // failing on its key id nor by other clients of its address (FailureThrottle).
        switch (authenticator.authenticate(authorization, Instant.now())) {
            case Authenticator.Authenticated ok -> {
                ctx.put(PRINCIPAL, ok.principal());
                ctx.next();
            }
            case Authenticator.Refused refused -> {
                ctx.put(RequestTelemetry.REFUSED_KEY, refused.keyId());
                ctx.put(RequestTelemetry.REFUSED_TENANT, refused.tenantId());
                if (refused.badCredentials()) {
                    String address = clientAddresses.of(ctx.request());
                    // Only a key the gateway knows counts guesses: a key id not yet propagated is no guess at anyone's key.
                    String guessedKey = refused.tenantId() == null ? null : refused.keyId();
                    long wait = authThrottle.retryAfterSeconds(address, guessedKey);
                    authThrottle.failed(address, guessedKey);
                    if (wait > 0) {
                        metrics.authFailure("throttled");
                        ctx.response().putHeader("retry-after", Long.toString(wait));
                        ErrorResponses.send(ctx, new GatewayError(429, "invalid_request_error", "too_many_authentication_failures",
                                "Too many requests with an invalid API key; retry after " + wait + " seconds.", null));
                        return;
                    }
                }
                metrics.authFailure(refused.error().code());
                ErrorResponses.send(ctx, refused.error());
            }
        }
    }

    /**
     * A key or address that has had too many requests refused as invalid lately is answered 429 before
     * its body is read (and the connection closed, since the body is not); every refusal is counted
     * when its answer's head is written, in this one place ({@link FailureThrottle#refusals()}).
     */
    private void refusalBudget(RoutingContext ctx) {
        Principal principal = ctx.get(PRINCIPAL);
        String address = clientAddresses.of(ctx.request());
        long wait = refusals.retryAfterSeconds(address, principal.keyId());
        if (wait > 0) {
            metrics.refusalThrottled();
            HttpConnection connection = ctx.request().connection();
            closeAfterAnswer.add(connection);
            ctx.response().putHeader("retry-after", Long.toString(wait)).putHeader("connection", "close");
            ErrorResponses.send(ctx, new GatewayError(429, "invalid_request_error", "too_many_invalid_requests",
                    "Too many invalid requests from this API key or address; retry after " + wait + " seconds.", null));
            return;
        }
        // Counted as the answer's head is written, before the client can send its next request: an end handler runs
        // after the write completes, by when that next request may already be on another event loop (GatewayAuthIT
        // failed so on two loops).
        ctx.addHeadersEndHandler(head -> {
            if (REFUSALS.contains(ctx.response().getStatusCode())) {
                refusals.failed(address, principal.keyId());
            }
        });
        ctx.next();
    }

    /**
     * Renders the exposition on a worker thread: it takes 50-70 ms (about 1,450 lines, most of them the Kafka producer's
     * metrics), and on the event loop every stream of that loop would wait for it at each scrape.
     */
    private void metrics(RoutingContext ctx) {
        vertx.executeBlocking(metrics::scrape, false).onComplete(scraped -> {
            if (scraped.failed()) {
                ctx.fail(scraped.cause());
                return;
            }
            ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(scraped.result());
        });
    }

    /** Live unless a background loop is wedged (the state reader made no progress for minutes): then restart me. */
    private void liveness(RoutingContext ctx) {
        if (state.live()) {
            ctx.json(new JsonObject().put("status", "UP"));
        } else {
            ctx.response().setStatusCode(503);
            ctx.json(new JsonObject().put("status", "DOWN").put("reason", "the state reader made no progress for "
                    + StateDirectory.WEDGED_AFTER.toMinutes() + " minutes"));
        }
    }

    private void models(RoutingContext ctx) {
        Principal principal = ctx.get(PRINCIPAL);
        if (!principal.mayListModels()) {
            ErrorResponses.send(ctx, GatewayError.scopeMissing("/v1/models", KeyScopes.MODELS_READ));
            return;
        }
        var data = new JsonArray();
        for (String model : upstreams.get().modelNames()) {
            if (principal.mayUse(model)) {
                data.add(modelJson(model));
            }
        }
        ctx.json(new JsonObject().put("object", "list").put("data", data));
    }

    private void model(RoutingContext ctx) {
        Principal principal = ctx.get(PRINCIPAL);
        String model = ctx.pathParam("model");
        if (!principal.mayListModels()) {
            ErrorResponses.send(ctx, GatewayError.scopeMissing("/v1/models", KeyScopes.MODELS_READ));
            return;
        }
        if (!upstreams.get().models().containsKey(model) || !principal.mayUse(model)) {
            // Never reveal a model the key may not use: the same 404 as for one that does not exist.
            ErrorResponses.send(ctx, GatewayError.modelNotFound(model));
            return;
        }
        ctx.json(modelJson(model));
    }

    private static JsonObject modelJson(String model) {
        return new JsonObject().put("id", model).put("object", "model").put("created", 0).put("owned_by", "tollgate");
    }
}
