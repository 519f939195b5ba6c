package dev.tollgate.gateway.http;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.InternalServerException;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.tollgate.gateway.auth.ClientAddresses;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RejectReason;
import dev.tollgate.schemas.usage.RequestRejected;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.KafkaExtension;
import dev.tollgate.testkit.kafka.TopicReader;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The gateway authenticates keys from the state topics (published here as the ledger would) and
 * answers the official OpenAI Java SDK: the model list holds only the key's models, and every
 * refusal is an OpenAI-shaped error the SDK maps to its own exception.
 */
@ExtendWith(KafkaExtension.class)
class GatewayAuthIT {
    private static final UpstreamConfig UPSTREAMS = UpstreamConfig.parse("""
            pools: {local: {endpoints: [{url: "http://127.0.0.1:9"}]}}
            models: {fake-chat: {pool: local}, fake-embed: {pool: local}, secret-model: {pool: local}}
            """);

    private Vertx vertx;
    private StateDirectory state;
    private UsageEmitter usage;

    @AfterEach
    void stop() throws Exception {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (state != null) {
            state.close();
        }
        if (usage != null) {
            usage.close();
        }
    }

    private static void publish(EmbeddedKafka kafka, String topic, StateRecord record) throws Exception {
        TestGateway.publish(kafka.bootstrapServers(), record);
    }

    private String start(EmbeddedKafka kafka) throws Exception {
        return start(kafka, ClientAddresses.direct());
    }

    private String start(EmbeddedKafka kafka, ClientAddresses addresses) throws Exception {
        return start(kafka, addresses, IdleConnections.DEFAULT_MAX_PER_ADDRESS);
    }

    private String start(EmbeddedKafka kafka, ClientAddresses addresses, int maxIdlePerAddress) throws Exception {
        vertx = Vertx.vertx();
        state = StateDirectory.start(kafka.bootstrapServers());
        usage = new UsageEmitter(kafka.bootstrapServers(), "auth-it", Files.createTempDirectory("spool"),
                Spool.Options.DEFAULT, false);
        int port = new GatewayServer(vertx, state, new EndpointPool(UPSTREAMS), usage).trustProxies(addresses)
                .capIdleConnections(maxIdlePerAddress).listen("127.0.0.1", 0)
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
        String base = "http://127.0.0.1:" + port;
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/readyz", null).statusCode() == 200);
        return base;
    }

    private static HttpResponse<String> get(String url, String key) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url));
        if (key != null) {
            request.header("authorization", "Bearer " + key);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static OpenAIClient client(String base, String key) {
        return OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey(key).maxRetries(0).build();
    }

    @Test
    void theSdkSeesOnlyItsModelsAndEveryRefusalIsAnOpenAiError(EmbeddedKafka kafka) throws Exception {
        String tenant = "gw-" + UUID.randomUUID().toString().substring(0, 8);
        String suspendedTenant = tenant + "-s";
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        ApiKeys.NewKey suspendedKey = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(tenant, "T", TenantState.Status.ACTIVE, "pro", "UTC", "USD",
                Limits.NONE, null, null, 1, now));
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(suspendedTenant, "S", TenantState.Status.SUSPENDED, "pro",
                "UTC", "USD", Limits.NONE, null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of("fake-chat", "fake-embed"), null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(suspendedKey.keyId(), suspendedTenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(suspendedKey.hash(), null)), List.of(), List.of(), null, null, 1, now));

        String base = start(kafka);

        List<String> models = client(base, key.token()).models().list().data().stream().map(Model::id).toList();
        assertThat(models).containsExactly("fake-chat", "fake-embed");
        assertThat(client(base, key.token()).models().retrieve("fake-chat").id()).isEqualTo("fake-chat");
        HttpResponse<String> hidden = get(base + "/v1/models/secret-model", key.token());
        assertThat(hidden.statusCode()).isEqualTo(404);
        assertThat(hidden.body()).contains("\"code\":\"model_not_found\"");

        assertThatThrownBy(() -> client(base, "tg_wrong").models().list())
                .isInstanceOfSatisfying(UnauthorizedException.class, e -> assertThat(e.code()).contains("invalid_api_key"));
        assertThatThrownBy(() -> client(base, ApiKeys.issue(key.keyId()).token()).models().list())
                .as("the right key id with a wrong secret").isInstanceOf(UnauthorizedException.class);
        assertThatThrownBy(() -> client(base, suspendedKey.token()).models().list())
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> assertThat(e.code()).contains("tenant_suspended"));

        HttpResponse<String> unknown = get(base + "/v1/nothing", key.token());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("\"code\":\"unknown_url\"");
        assertThat(get(base + "/v1/models", null).body()).contains("missing_api_key");
    }

    @Test
    void aKeyCallsOnlyTheEndpointsItsScopesNameAndEachRefusalIsA403AndARejectedEvent(EmbeddedKafka kafka) throws Exception {
        String tenant = "sc-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey embedOnly = ApiKeys.issue(ApiKeys.newKeyId());
        ApiKeys.NewKey listOnly = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(tenant, "T", TenantState.Status.ACTIVE, "pro", "UTC", "USD",
                Limits.NONE, null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(embedOnly.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(embedOnly.hash(), null)), List.of("embeddings"), List.of(), null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(listOnly.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(listOnly.hash(), null)), List.of("models.read"), List.of(), null, null, 1, now));
        String base = start(kafka);

        assertThatThrownBy(() -> client(base, embedOnly.token()).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-chat").addUserMessage("hi").build()))
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> assertThat(e.code()).contains("insufficient_scope"));
        assertThatThrownBy(() -> client(base, listOnly.token()).embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-embed").input("hi").build()))
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> assertThat(e.code()).contains("insufficient_scope"));
        assertThat(client(base, embedOnly.token()).models().list().data()).isNotEmpty();
        assertThat(client(base, listOnly.token()).models().list().data()).isNotEmpty();

        List<RequestRejected> rejected = rejections(kafka, tenant, 2);
        assertThat(rejected).extracting(RequestRejected::reason).containsOnly(RejectReason.PERMISSION);
        assertThat(rejected).extracting(RequestRejected::endpoint).containsExactlyInAnyOrder(Endpoint.CHAT_COMPLETIONS, Endpoint.EMBEDDINGS);
        assertThat(rejected).extracting(r -> r.error().httpStatus()).containsOnly(403);
    }

    /** Issue #20: a plan's (or tenant's) endpoint list and a key's bound what the key's scopes would allow. */
    @Test
    void theTenantsEndpointListAndTheKeysBoundEveryKeyAndEachRefusalIsA403AndARejectedEvent(EmbeddedKafka kafka) throws Exception {
        String tenant = "ep-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey anyKey = ApiKeys.issue(ApiKeys.newKeyId());
        ApiKeys.NewKey embedLimited = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        var chatAndEmbeddings = new Limits(null, null, null, null, null, null, null, null, List.of("chat.completions", "embeddings"));
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(tenant, "T", TenantState.Status.ACTIVE, "pro", "UTC", "USD",
                chatAndEmbeddings, null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(anyKey.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(anyKey.hash(), null)), List.of(), List.of(), null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(embedLimited.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(embedLimited.hash(), null)), List.of("inference"), List.of(),
                new Limits(null, null, null, null, null, null, null, null, List.of("embeddings")), null, 1, now));
        String base = start(kafka);

        // Allowed calls pass on to the model server, which this test does not run: a 502, not a 403.
        assertThatThrownBy(() -> client(base, anyKey.token()).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-chat").addUserMessage("hi").build())).isInstanceOf(InternalServerException.class);
        assertThatThrownBy(() -> client(base, anyKey.token()).completions().create(CompletionCreateParams.builder()
                .model("fake-chat").prompt("hi").build()))
                .as("a key that may call every endpoint, of a tenant that may not call this one")
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> assertThat(e.code()).contains("endpoint_not_allowed"));
        assertThatThrownBy(() -> client(base, embedLimited.token()).embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-embed").input("hi").build())).isInstanceOf(InternalServerException.class);
        assertThatThrownBy(() -> client(base, embedLimited.token()).chat().completions().create(ChatCompletionCreateParams.builder()
                .model("fake-chat").addUserMessage("hi").build()))
                .as("the tenant may, the key's own list may not")
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> assertThat(e.code()).contains("endpoint_not_allowed"));

        List<RequestRejected> rejected = rejections(kafka, tenant, 2);
        assertThat(rejected).extracting(RequestRejected::reason).containsOnly(RejectReason.PERMISSION);
        assertThat(rejected).extracting(RequestRejected::endpoint).containsExactlyInAnyOrder(Endpoint.COMPLETIONS, Endpoint.CHAT_COMPLETIONS);
    }

    @Test
    void aModelWithoutAPriceOnTheTenantsPlanIsRefusedUnlessThePlanAllowsIt(EmbeddedKafka kafka) throws Exception {
        String strict = "up-" + UUID.randomUUID().toString().substring(0, 8);
        String lenient = strict + "-l";
        ApiKeys.NewKey strictKey = ApiKeys.issue(ApiKeys.newKeyId());
        ApiKeys.NewKey lenientKey = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        String plan = "plan-" + strict;
        var list = new PriceListPublished("pl-" + strict, plan, "USD", now.minusSeconds(3600), false,
                List.of(new ModelPrice("fake-chat", 1_000_000, 500_000, 2_000_000)));
        TestGateway.publishPriceList(kafka.bootstrapServers(), list);
        List<PlanPeriod> plans = List.of(new PlanPeriod(plan, now.minusSeconds(3600)));
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(strict, "S", TenantState.Status.ACTIVE, plan, "UTC", "USD",
                Limits.NONE, null, null, 1, now, plans, false));
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(lenient, "L", TenantState.Status.ACTIVE, plan, "UTC", "USD",
                Limits.NONE, null, null, 1, now, plans, true));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(strictKey.keyId(), strict, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(strictKey.hash(), null)), List.of(), List.of(), null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(lenientKey.keyId(), lenient, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(lenientKey.hash(), null)), List.of(), List.of(), null, null, 1, now));
        String base = start(kafka);
        await().atMost(Duration.ofSeconds(20)).until(() -> state.priceBook().schedule(plan).isPresent());

        assertThatThrownBy(() -> client(base, strictKey.token()).embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-embed").input("hi").build()))
                .isInstanceOfSatisfying(PermissionDeniedException.class, e -> {
                    assertThat(e.code()).contains("model_not_priced");
                    assertThat(e.getMessage()).contains("fake-embed");
                });
        // Priced, or allowed by the plan: past the check, to the (unreachable) model server.
        for (var call : List.of(post(base, strictKey.token(), "/v1/chat/completions", "fake-chat"),
                post(base, lenientKey.token(), "/v1/embeddings", "fake-embed"))) {
            assertThat(call.statusCode()).as(call.body()).isNotEqualTo(403);
        }
        List<RequestRejected> rejected = rejections(kafka, strict, 1);
        assertThat(rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.PERMISSION);
            assertThat(r.model()).isEqualTo("fake-embed");
            assertThat(r.error().code()).isEqualTo("model_not_priced");
        });
    }

    /** The tenant's rejection events, once there are {@code count} of them. */
    private static List<RequestRejected> rejections(EmbeddedKafka kafka, String tenant, int count) {
        List<RequestRejected> rejected = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            rejected.clear();
            TopicReader.readAll(kafka.bootstrapServers(), Topics.USAGE.name()).stream().map(r -> EventCodec.decode(r.value()))
                    .filter(e -> e.tenantid().equals(tenant) && e.data() instanceof RequestRejected)
                    .forEach(e -> rejected.add((RequestRejected) e.data()));
            return rejected.size() >= count;
        });
        return rejected;
    }

    private static HttpResponse<String> post(String base, String key, String path, String model) throws Exception {
        String body = path.endsWith("embeddings") ? "{\"model\":\"" + model + "\",\"input\":\"hi\"}"
                : "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + path)).header("authorization", "Bearer " + key)
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Two active keys of one tenant on the topics: a victim and a bystander. */
    private static ApiKeys.NewKey[] twoKeys(EmbeddedKafka kafka) throws Exception {
        String tenant = "gw-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey victim = ApiKeys.issue(ApiKeys.newKeyId());
        ApiKeys.NewKey bystander = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(tenant, "T", TenantState.Status.ACTIVE, "pro", "UTC", "USD",
                Limits.NONE, null, null, 1, now));
        for (ApiKeys.NewKey key : List.of(victim, bystander)) {
            publish(kafka, Topics.KEYS_STATE.name(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                    List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        }
        return new ApiKeys.NewKey[] {victim, bystander};
    }

    private static HttpResponse<String> get(String url, String key, String forwardedFor) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).header("authorization", "Bearer " + key)
                .header("x-forwarded-for", forwardedFor).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Guessing keys: 10 failures a minute per known key id, 30 per client address, then 429 instead of
     * 401 for further failures; a valid key is never held back by them.
     */
    @Test
    void guessingKeysIsThrottledPerKeyIdAndPerAddressAndNeverHoldsBackAValidKey(EmbeddedKafka kafka) throws Exception {
        ApiKeys.NewKey[] keys = twoKeys(kafka);
        ApiKeys.NewKey victim = keys[0];
        ApiKeys.NewKey bystander = keys[1];
        String base = start(kafka);
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/v1/models", bystander.token()).statusCode() == 200);

        for (int i = 0; i < 10; i++) {
            assertThat(get(base + "/v1/models", ApiKeys.issue(victim.keyId()).token()).statusCode()).as("guess %d", i).isEqualTo(401);
        }
        HttpResponse<String> throttled = get(base + "/v1/models", ApiKeys.issue(victim.keyId()).token());
        assertThat(throttled.statusCode()).isEqualTo(429);
        assertThat(throttled.body()).contains("too_many_authentication_failures");
        assertThat(throttled.headers().firstValue("retry-after")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
        assertThat(get(base + "/v1/models", victim.token()).statusCode()).as("the owner's own key still works").isEqualTo(200);
        assertThat(get(base + "/v1/models", bystander.token()).statusCode()).as("other keys are unaffected").isEqualTo(200);

        for (int i = 0; i < 25; i++) {
            get(base + "/v1/models", ApiKeys.issue(ApiKeys.newKeyId()).token()); // a scan over random key ids
        }
        assertThat(get(base + "/v1/models", ApiKeys.issue(ApiKeys.newKeyId()).token()).statusCode())
                .as("this address's failures are held back now").isEqualTo(429);
        assertThat(get(base + "/v1/models", bystander.token()).statusCode()).as("its valid keys are not").isEqualTo(200);
        String metrics = get(base + "/metrics", null).body();
        assertThat(metrics).containsPattern("tollgate_gateway_auth_failures_total\\{reason=\"throttled\"} [1-9]")
                .containsPattern("tollgate_gateway_auth_failures_total\\{reason=\"invalid_api_key\"} [1-9]");
    }

    /** Issue #19 item 5: a stranger hammering a victim's key id at 100 requests a second cannot keep the victim out. */
    @Test
    void aStrangerHammeringAKeyIdDoesNotLockItsOwnerOut(EmbeddedKafka kafka) throws Exception {
        ApiKeys.NewKey[] keys = twoKeys(kafka);
        ApiKeys.NewKey victim = keys[0];
        String base = start(kafka);
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/v1/models", victim.token()).statusCode() == 200);

        var attackerStatuses = new ConcurrentHashMap<Integer, Integer>();
        var stop = new AtomicBoolean();
        Runnable hammer = () -> {
            while (!stop.get()) {
                try {
                    attackerStatuses.merge(get(base + "/v1/models", ApiKeys.issue(victim.keyId()).token()).statusCode(), 1, Integer::sum);
                } catch (Exception e) {
                    return;
                }
            }
        };
        List<Thread> attackers = List.of(Thread.ofPlatform().start(hammer), Thread.ofPlatform().start(hammer));
        long started = System.nanoTime();
        var victimStatuses = new ArrayList<Integer>();
        try {
            for (int i = 0; i < 30; i++) {
                victimStatuses.add(get(base + "/v1/models", victim.token()).statusCode());
                Thread.sleep(100);
            }
        } finally {
            stop.set(true);
            for (Thread attacker : attackers) {
                attacker.join();
            }
        }
        double rate = attackerStatuses.values().stream().mapToInt(Integer::intValue).sum() / ((System.nanoTime() - started) / 1e9);
        System.out.printf("[lockout] attacker's answers %s (%.0f a second); the owner's %s%n", attackerStatuses, rate, victimStatuses);
        assertThat(rate).as("the attack's rate").isGreaterThan(100);
        assertThat(attackerStatuses.getOrDefault(429, 0)).as("the attacker is throttled").isPositive();
        assertThat(victimStatuses).as("every request of the owner succeeds").containsOnly(200);
    }

    /** Behind a trusted proxy, each client address named by X-Forwarded-For has its own failure bucket. */
    @Test
    void behindATrustedProxyEachForwardedClientHasItsOwnBucket(EmbeddedKafka kafka) throws Exception {
        ApiKeys.NewKey[] keys = twoKeys(kafka);
        String base = start(kafka, ClientAddresses.trusting(List.of("127.0.0.1/32")));
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/v1/models", keys[1].token()).statusCode() == 200);

        for (int i = 0; i < 30; i++) {
            get(base + "/v1/models", ApiKeys.issue(ApiKeys.newKeyId()).token(), "198.51.100.7");
        }
        assertThat(get(base + "/v1/models", ApiKeys.issue(ApiKeys.newKeyId()).token(), "198.51.100.7").statusCode()).isEqualTo(429);
        assertThat(get(base + "/v1/models", ApiKeys.issue(ApiKeys.newKeyId()).token(), "198.51.100.8").statusCode())
                .as("another client behind the same proxy").isEqualTo(401);
        assertThat(get(base + "/v1/models", ApiKeys.issue(ApiKeys.newKeyId()).token(), "198.51.100.7, 127.0.0.1").statusCode())
                .as("a trusted hop is skipped").isEqualTo(429);
    }

    /**
     * Issue #19 item 4: refused requests cost the caller. A key that asks for an unknown model over and
     * over gets 60 answers a minute, then 429 whatever it sends; other keys are unaffected until their
     * address as a whole has had 300 refusals; echoed values are cut.
     */
    @Test
    void refusedRequestsCountAgainstTheKeysAndTheAddresssRefusalBudget(EmbeddedKafka kafka) throws Exception {
        ApiKeys.NewKey[] keys = twoKeys(kafka);
        String base = start(kafka, ClientAddresses.trusting(List.of("127.0.0.1/32")));
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/v1/models", keys[1].token()).statusCode() == 200);

        long started = System.nanoTime();
        String longModel = "m".repeat(1_000_000);
        HttpResponse<String> echoed = post(base, keys[0].token(), "/v1/chat/completions", longModel);
        assertThat(echoed.statusCode()).isEqualTo(404);
        assertThat(echoed.body().length()).as("a 1,000,000-character model name is not echoed whole").isLessThan(1_000);
        int refused = 1;
        HttpResponse<String> throttled;
        while ((throttled = post(base, keys[0].token(), "/v1/chat/completions", "no-such-model")).statusCode() == 404) {
            refused++;
            assertThat(refused).as("refusals before the throttle").isLessThan(200);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        // 60 a minute: the bucket's 60, plus one a second for as long as the refusals took on a busy machine.
        assertThat(refused).as("404s in %.1f s", seconds).isBetween(60, 60 + (int) Math.ceil(seconds) + 1);
        assertThat(throttled.statusCode()).isEqualTo(429);
        assertThat(throttled.body()).contains("too_many_invalid_requests");
        assertThat(throttled.headers().firstValue("retry-after")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
        assertThat(get(base + "/v1/models", keys[0].token()).statusCode()).as("the key's valid requests wait too").isEqualTo(429);
        assertThat(get(base + "/v1/models", keys[1].token()).statusCode()).as("another key of the same address").isEqualTo(200);

        // Per address: eight keys of one client (behind a proxy that names the client), 59 refusals each (fewer than a key's 60),
        // 472 in all: more than the address's 300 a minute even with what refills (5 a second) in the 30 s they may take on a
        // loaded CI machine (six keys, 354 refusals, left room for only 10 s and failed once).
        List<ApiKeys.NewKey> eight = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            eight.addAll(List.of(twoKeys(kafka)));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/v1/models", eight.getLast().token()).statusCode() == 200);
        int throttledByAddress = 0;
        for (ApiKeys.NewKey key : eight) {
            for (int i = 0; i < 59; i++) {
                int status = get(base + "/v1/models/no-such-model", key.token(), "198.51.100.9").statusCode();
                assertThat(status).isIn(404, 429);
                throttledByAddress += status == 429 ? 1 : 0;
            }
        }
        assertThat(throttledByAddress).as("refusals answered 429 by the address's budget").isPositive();
        // The spent budget refills one refusal every 200 ms, and a valid request does not take it: a refill between the
        // last refusal and the check let the check through once (a clean-clone CI run). Each attempt first spends what
        // refilled with a refusal, then checks at once; five refills in a row in those gaps do not happen.
        boolean validRequestThrottled = false;
        for (int attempt = 0; attempt < 5 && !validRequestThrottled; attempt++) {
            get(base + "/v1/models/no-such-model", eight.getFirst().token(), "198.51.100.9");
            validRequestThrottled = get(base + "/v1/models", eight.getFirst().token(), "198.51.100.9").statusCode() == 429;
        }
        assertThat(validRequestThrottled).as("the address's budget is spent: its valid requests wait too").isTrue();
        assertThat(get(base + "/v1/models", eight.getFirst().token(), "198.51.100.10").statusCode()).as("another client address")
                .isEqualTo(200);
        assertThat(get(base + "/metrics", null).body()).containsPattern("tollgate_gateway_requests_refusals_throttled_total [1-9]");
    }

    /** Idle connections per client address are capped, oldest closed first; a trusted proxy is not capped. */
    @Test
    void aClientAddressHoldsAtMostTheCapOfIdleConnections(EmbeddedKafka kafka) throws Exception {
        ApiKeys.NewKey[] keys = twoKeys(kafka);
        String base = start(kafka, ClientAddresses.direct(), 8);
        await().atMost(Duration.ofSeconds(30)).until(() -> get(base + "/v1/models", keys[0].token()).statusCode() == 200);
        int port = URI.create(base).getPort();
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(300);
                sockets.add(socket);
            }
            Thread.sleep(500);
            int open = 0;
            for (Socket socket : sockets) {
                try {
                    if (socket.getInputStream().read() >= 0) {
                        throw new AssertionError("the gateway sent something on a connection that sent nothing");
                    }
                } catch (SocketTimeoutException stillOpen) {
                    open++;
                } catch (IOException reset) {
                    // closed by the gateway
                }
            }
            assertThat(open).as("idle connections left open of 20").isEqualTo(8);
            assertThat(get(base + "/v1/models", keys[0].token()).statusCode()).as("a connection that carries a request").isEqualTo(200);
            assertThat(get(base + "/metrics", null).body()).containsPattern("tollgate_gateway_connections_idle_capped_total [1-9]");
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    @Test
    void aRevocationOnTheTopicTakesEffectWithoutARestart(EmbeddedKafka kafka) throws Exception {
        String tenant = "gw-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        publish(kafka, Topics.TENANTS_STATE.name(), new TenantState(tenant, "T", TenantState.Status.ACTIVE, null, "UTC", "USD",
                Limits.NONE, null, null, 1, now));
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        String base = start(kafka);
        assertThat(get(base + "/v1/models", key.token()).statusCode()).isEqualTo(200);

        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.REVOKED,
                List.of(), List.of(), List.of(), null, null, 2, now));

        await().atMost(Duration.ofSeconds(10)).until(() -> get(base + "/v1/models", key.token()).statusCode() == 401);
        // An older version arriving late never resurrects the key.
        publish(kafka, Topics.KEYS_STATE.name(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        Thread.sleep(1000);
        assertThat(get(base + "/v1/models", key.token()).statusCode()).isEqualTo(401);
    }
}
