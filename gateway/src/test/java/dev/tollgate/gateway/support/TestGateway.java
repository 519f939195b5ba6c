package dev.tollgate.gateway.support;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.tollgate.gateway.http.GatewayServer;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A whole gateway for integration tests: state directory, usage emitter with its spool, HTTP server
 * on a free port, ready (caught up with the state topics) when {@link #start} returns.
 */
public final class TestGateway implements AutoCloseable {
    private final Vertx vertx;
    private final GatewayServer server;
    private final StateDirectory state;
    private final UsageEmitter usage;
    private final int port;

    private TestGateway(Vertx vertx, GatewayServer server, StateDirectory state, UsageEmitter usage, int port) {
        this.vertx = vertx;
        this.server = server;
        this.state = state;
        this.usage = usage;
        this.port = port;
    }

    /** Starts a gateway on {@code config} against the cluster at {@code bootstrap}, with a temporary spool. */
    public static TestGateway start(String bootstrap, UpstreamConfig config) throws Exception {
        return start(bootstrap, config, Spool.Options.DEFAULT);
    }

    public static TestGateway start(String bootstrap, UpstreamConfig config, Spool.Options spool) throws Exception {
        return start(bootstrap, config, spool, Files.createTempDirectory("spool"), false);
    }

    /** @param failClosed refuse requests (503) rather than lose their usage events when the spool cannot take them */
    public static TestGateway start(String bootstrap, UpstreamConfig config, Spool.Options spool, Path spoolDirectory,
                                    boolean failClosed) throws Exception {
        return start(bootstrap, config, spool, spoolDirectory, failClosed, GatewayServer.defaultEventLoops());
    }

    /** @param eventLoops how many event loops serve requests */
    public static TestGateway start(String bootstrap, UpstreamConfig config, Spool.Options spool, Path spoolDirectory,
                                    boolean failClosed, int eventLoops) throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE, eventLoops)));
        StateDirectory state = StateDirectory.start(bootstrap);
        var usage = new UsageEmitter(bootstrap, "test-gateway", spoolDirectory, spool, failClosed);
        var server = new GatewayServer(vertx, state, new EndpointPool(config), usage).eventLoops(eventLoops);
        int port = server.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!state.ready() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return new TestGateway(vertx, server, state, usage, port);
    }

    /** {@code http://127.0.0.1:port}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** The official OpenAI SDK pointed at this gateway unchanged, with {@code apiKey}, never retrying. */
    public OpenAIClient openAi(String apiKey) {
        return OpenAIOkHttpClient.builder().baseUrl(baseUrl() + "/v1").apiKey(apiKey).maxRetries(0).build();
    }

    public UsageEmitter usage() {
        return usage;
    }

    /** The threads of the event loops that serve requests. */
    public Set<String> servingThreads() {
        return server.servingThreads();
    }

    /** Publishes an active tenant and an active key of it, as the ledger would; returns the key. */
    public static ApiKeys.NewKey publishTenantWithKey(String bootstrap, String tenant) throws Exception {
        return publishTenantWithKey(bootstrap, tenant, Limits.NONE);
    }

    /** Publishes an active tenant with {@code limits} and an active key of it, as the ledger would; returns the key. */
    public static ApiKeys.NewKey publishTenantWithKey(String bootstrap, String tenant, Limits limits) throws Exception {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(bootstrap, new TenantState(tenant, tenant, TenantState.Status.ACTIVE, null, "UTC", "USD", limits, null, null, 1, now));
        publish(bootstrap, new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(key.hash(), null)),
                List.of(), List.of(), null, null, 1, now));
        return key;
    }

    /** Publishes a state record to its topic, as the ledger would. */
    /** Publishes a price list as the ledger does, on {@code pricelists.state.v1}. */
    public static void publishPriceList(String bootstrap, PriceListPublished list) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), list.priceListId(), EventCodec.mapper().writeValueAsBytes(list))).get();
        }
    }

    public static void publish(String bootstrap, StateRecord record) throws Exception {
        String topic = record instanceof KeyState ? Topics.KEYS_STATE.name() : Topics.TENANTS_STATE.name();
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
        }
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        state.close();
        usage.close();
    }
}
