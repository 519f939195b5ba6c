package dev.tollgate.devstack;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Quotas end to end (ADR 0009): the ledger, the billing projector and three gateway replicas (each
 * enforcing a third) against the fake upstream, in one JVM. Prints each measured figure next to the
 * bound the ADR states.
 */
class QuotaEndToEndIT {
    private static final String DATABASE = "tg_quota_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int REPLICAS = 3;
    private static final int COMPLETION_TOKENS = 50;

    @TempDir
    static Path dataDir;
    private static DevStack stack;
    private static final List<LocalGateway> gateways = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        stack = DevStack.start(DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE, "billing-database", DATABASE + "_billing",
                "ttft-ms", "0", "inter-token-ms", "2", "completion-tokens", Integer.toString(COMPLETION_TOKENS)));
        var config = LocalGateway.fakeUpstreams(stack.upstreamUrl(), DevStack.FAKE_MODELS);
        for (int i = 0; i < REPLICAS; i++) {
            gateways.add(LocalGateway.start(0, stack.kafkaBootstrapServers(), config, dataDir.resolve("spool-" + i), "gw-" + i, REPLICAS));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (LocalGateway gateway : gateways) {
            gateway.close();
        }
        if (stack != null) {
            stack.close();
        }
        BilledUsage.dropDatabases(PostgresDatabase.Server.fromEnvironment(), DATABASE, DATABASE + "_billing");
    }

    /** A tenant on the dev plan with {@code limits} (JSON); returns an API key. */
    private static String tenantWithKey(String tenant, String limits) throws Exception {
        String apiKey = StackAdmin.tenantWithKey(stack, tenant, limits);
        // Every replica must know the key (and the limits) before the load starts.
        for (LocalGateway gateway : gateways) {
            await().atMost(Duration.ofSeconds(30)).until(() -> complete(gateway, apiKey, false, 1).statusCode() == 200);
        }
        return apiKey;
    }

    private static HttpResponse<String> complete(LocalGateway gateway, String apiKey, boolean stream, int maxTokens) throws Exception {
        String body = "{\"model\":\"fake-chat\",\"stream\":" + stream + (maxTokens > 0 ? ",\"max_tokens\":" + maxTokens : "")
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url() + "/v1/chat/completions"))
                .header("authorization", "Bearer " + apiKey).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static QuotaState latestQuota(String stateKey) {
        return TopicReader.readAll(stack.kafkaBootstrapServers(), Topics.QUOTA_STATE.name()).stream()
                .filter(r -> stateKey.equals(r.key())).map(r -> EventCodec.decodeState(r.value(), QuotaState.class))
                .reduce((a, b) -> b.version() >= a.version() ? b : a).orElse(null);
    }

    /** What the projector counts of a day's tokens; {@code absent} before it has a state. */
    private static long usedTokens(String stateKey, long absent) {
        QuotaState state = latestQuota(stateKey);
        return state == null ? absent : state.usedTokens();
    }

    @Test
    void aDailyTokenLimitDrivenThroughThreeReplicasAtFullSpeedIsOvershotOnlyWithinTheBound() throws Exception {
        long limit = 20_000;
        int clientsPerReplica = 4;
        String tenant = "quota-day-" + UUID.randomUUID().toString().substring(0, 6);
        // Rates far above what the test reaches: only the daily budget refuses.
        String apiKey = tenantWithKey(tenant, "{\"tokensPerDay\":" + limit
                + ",\"requestsPerMinute\":1000000,\"tokensPerMinute\":100000000,\"maxConcurrentRequests\":1000}");
        String stateKey = QuotaState.stateKey(tenant, null, QuotaState.Window.DAY);
        await().atMost(Duration.ofSeconds(30)).until(() -> latestQuota(stateKey) != null); // the warm-up requests are counted

        BudgetLoad.Result load = BudgetLoad.untilUsedUp(gateways, clientsPerReplica, 429,
                (gateway, reserveCompletion) -> complete(gateway, apiKey, true, reserveCompletion ? COMPLETION_TOKENS : 0),
                answer -> { }, refusal -> assertThat(refusal.body()).contains("insufficient_quota"),
                () -> usedTokens(stateKey, 0));
        BudgetLoad.awaitSettled(() -> usedTokens(stateKey, -1));
        QuotaState state = latestQuota(stateKey);
        long overshoot = Math.max(0, state.usedTokens() - limit);
        // ADR 0009: per replica, one chunk per stream in flight when its share runs out, plus the prompt estimate's
        // error per request in flight; plus what the fleet uses while replicas see different state versions
        // ((N-1)/N of one emission interval's usage, taken here as the tokens of one request per client).
        long promptError = 20;
        long bound = (long) REPLICAS * clientsPerReplica * (1 + promptError) + (long) (REPLICAS - 1) * clientsPerReplica * (COMPLETION_TOKENS + 20);
        System.out.printf("daily limit %,d tokens through %d replicas x %d clients for %.1f s: %d answers (%d cut mid-stream), %d refused; "
                        + "used %,d tokens: overshoot %,d tokens, bound %,d tokens%n", limit, REPLICAS, clientsPerReplica, load.seconds(),
                load.served(), load.cut(), load.refused(), state.usedTokens(), overshoot, bound);
        assertThat(state.usedTokens()).as("the budget is used, not refused early").isGreaterThan(limit * 9 / 10);
        assertThat(overshoot).isLessThanOrEqualTo(bound);
        assertThat(load.refused()).isPositive();
    }

    @Test
    void anRpmLimitAcrossThreeReplicasAdmitsAtMostTheLimitInTheMinute() throws Exception {
        long rpm = 60;
        String tenant = "quota-rpm-" + UUID.randomUUID().toString().substring(0, 6);
        String apiKey = tenantWithKey(tenant, "{\"requestsPerMinute\":" + rpm + "}"); // the warm-up used one request per replica
        var ok = new AtomicLong();
        var limited = new AtomicLong();
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        var calls = new ArrayList<CompletableFuture<Void>>();
        for (int i = 0; i < 240; i++) {
            LocalGateway gateway = gateways.get(i % REPLICAS);
            calls.add(CompletableFuture.runAsync(() -> {
                try {
                    int status = complete(gateway, apiKey, false, 1).statusCode();
                    (status == 200 ? ok : limited).incrementAndGet();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, pool));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get();
        pool.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        // Each replica's bucket holds rpm/N and refills at rpm/N per minute: in t seconds at most rpm + rpm x t/60 in total.
        long bound = rpm + (long) Math.ceil(rpm * seconds / 60) - REPLICAS;
        System.out.printf("rpm limit %d across %d replicas: 240 requests in %.1f s -> %d answered 200, %d refused 429; bound %d%n",
                rpm, REPLICAS, seconds, ok.get(), limited.get(), bound);
        assertThat(ok.get()).isLessThanOrEqualTo(bound);
        assertThat(limited.get()).isPositive();
    }

    @Test
    void aKeyRevokedOrATenantSuspendedUnderLoadIsRefusedByEveryReplicaWithinASecond() throws Exception {
        var revocations = new ArrayList<Long>();
        var suspensions = new ArrayList<Long>();
        for (int round = 0; round < 3; round++) {
            String tenant = "quota-revoke-" + UUID.randomUUID().toString().substring(0, 6);
            String apiKey = tenantWithKey(tenant, "{}");
            String keyId = apiKey.split("_")[1];
            long revokedAt = System.nanoTime();
            assertThat(StackAdmin.admin(stack, "POST", "/admin/v1/keys/" + keyId + ":revoke", "{\"reason\":\"test\"}").statusCode()).isEqualTo(200);
            revocations.addAll(untilEveryReplicaRefuses(apiKey, revokedAt));

            String suspended = "quota-suspend-" + UUID.randomUUID().toString().substring(0, 6);
            String otherKey = tenantWithKey(suspended, "{}");
            long suspendedAt = System.nanoTime();
            assertThat(StackAdmin.admin(stack, "POST", "/admin/v1/tenants/" + suspended + ":suspend", "{\"reason\":\"test\"}").statusCode()).isEqualTo(200);
            suspensions.addAll(untilEveryReplicaRefuses(otherKey, suspendedAt));
        }
        revocations.sort(Long::compare);
        suspensions.sort(Long::compare);
        System.out.printf("key revocation -> refused by every replica: %s ms (max %d ms over %d samples)%n", revocations,
                revocations.getLast(), revocations.size());
        System.out.printf("tenant suspension -> refused by every replica: %s ms (max %d ms over %d samples)%n", suspensions,
                suspensions.getLast(), suspensions.size());
        assertThat(revocations.getLast()).as("revocation reaches every replica").isLessThan(10_000);
        assertThat(suspensions.getLast()).as("suspension reaches every replica").isLessThan(10_000);
    }

    /** Milliseconds from {@code since} until each replica refuses {@code apiKey} (401 or 403), polling under load. */
    private static List<Long> untilEveryReplicaRefuses(String apiKey, long since) throws Exception {
        var perReplica = new ArrayList<CompletableFuture<Long>>();
        for (LocalGateway gateway : gateways) {
            perReplica.add(CompletableFuture.supplyAsync(() -> {
                while (true) {
                    try {
                        int status = complete(gateway, apiKey, false, 1).statusCode();
                        if (status == 401 || status == 403) {
                            return (System.nanoTime() - since) / 1_000_000;
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }));
        }
        var latencies = new ArrayList<Long>();
        for (var f : perReplica) {
            latencies.add(f.get());
        }
        return latencies;
    }
}
