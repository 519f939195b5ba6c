package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.stripe.FakeStripe;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Prepaid credit end to end (ADR 0027): a tenant with $1.00 of credit streams through three gateway
 * replicas until the balance is gone; streams are cut, further requests get 402; what was burned
 * stays within the ADR's overshoot bound; a top-up restores service on every replica.
 */
class PrepaidEndToEndIT {
    private static final String DATABASE = "tg_prepaid_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int REPLICAS = 3;
    private static final int COMPLETION_TOKENS = 50;
    /** Prices of the test's plan: 50 micro-USD per prompt token, 100 per completion token ($50 and $100 per million). */
    private static final long INPUT_MICROS = 50;
    private static final long OUTPUT_MICROS = 100;
    private static final long CREDIT = 1_000_000;

    @TempDir
    static Path dataDir;
    private static DevStack stack;
    private static final List<LocalGateway> gateways = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        stack = DevStack.start(DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE,
                "billing-database", DATABASE + "_billing", "ttft-ms", "0", "inter-token-ms", "2",
                "completion-tokens", Integer.toString(COMPLETION_TOKENS)));
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

    private static HttpResponse<String> admin(String method, String path, String json) throws Exception {
        return StackAdmin.admin(stack, method, path, json);
    }

    private static HttpResponse<String> complete(LocalGateway gateway, String apiKey, boolean stream, int maxTokens) throws Exception {
        String body = "{\"model\":\"fake-chat\",\"stream\":" + stream + (maxTokens > 0 ? ",\"max_tokens\":" + maxTokens : "")
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url() + "/v1/chat/completions"))
                .header("authorization", "Bearer " + apiKey).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static QuotaState latestCredit(String tenant) {
        String stateKey = QuotaState.stateKey(tenant, null, QuotaState.Window.CREDIT);
        return TopicReader.readAll(stack.kafkaBootstrapServers(), Topics.QUOTA_STATE.name()).stream()
                .filter(r -> stateKey.equals(r.key())).map(r -> EventCodec.decodeState(r.value(), QuotaState.class))
                .reduce((a, b) -> b.version() >= a.version() ? b : a).orElse(null);
    }

    /** What prepaid usage consumed, as the projector publishes it; {@code absent} before it has a balance. */
    private static long spentMicros(String tenant, long absent) {
        QuotaState state = latestCredit(tenant);
        return state == null ? absent : state.usedSpendMicros();
    }

    private static JsonNode balance(String tenant) throws Exception {
        String token = stack.token("finance", List.of("billing"), null);
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(stack.billingUrl() + "/billing/v1/tenants/" + tenant
                + "/balance")).header("authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return EventCodec.mapper().readTree(response.body());
    }

    /** The tenant-admin starts a credit purchase; answers the checkout (session id and URL). */
    private static JsonNode buyCredit(String tenant, long micros) throws Exception {
        String token = stack.token("owner@" + tenant, List.of("tenant-admin"), tenant);
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(stack.billingUrl() + "/billing/v1/tenants/" + tenant
                        + "/credit-purchases")).header("authorization", "Bearer " + token).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"amountMicros\":" + micros + "}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        JsonNode checkout = EventCodec.mapper().readTree(response.body());
        assertThat(checkout.path("checkoutUrl").asText()).startsWith(stack.stripe().apiBase() + "/pay/");
        return checkout;
    }


    private static HttpResponse<String> stripeWebhook(String payload, String signature) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(stack.billingUrl() + "/billing/v1/stripe/webhook"))
                .header("content-type", "application/json").header("Stripe-Signature", signature)
                .POST(HttpRequest.BodyPublishers.ofString(payload)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<JsonNode> purchases(String tenant) throws Exception {
        var grants = new ArrayList<JsonNode>();
        EventCodec.mapper().readTree(admin("GET", "/admin/v1/tenants/" + tenant + "/credit-grants", null).body()).forEach(g -> {
            if (g.path("source").asText().equals("PURCHASE")) {
                grants.add(g);
            }
        });
        return grants;
    }

    /** A tenant on a plan of its own (the test's prices), PREPAID with {@code credit} micro-USD, and an API key every replica accepts. */
    private record Prepaid(String tenant, String apiKey) {}

    private static Prepaid prepaidTenant(long credit) throws Exception {
        String plan = "prepaid-" + UUID.randomUUID().toString().substring(0, 6);
        String tenant = "prepaid-" + UUID.randomUUID().toString().substring(0, 6);
        assertThat(admin("PUT", "/admin/v1/plans/" + plan, """
                {"name":"Prepaid","defaultLimits":{"requestsPerMinute":1000000,"tokensPerMinute":100000000,"maxConcurrentRequests":1000}}""")
                .statusCode()).isEqualTo(200);
        assertThat(admin("POST", "/admin/v1/price-lists", """
                {"priceListId":"pl-%s","planId":"%s","currency":"USD","effectiveFrom":"2020-01-01T00:00:00Z","backfill":true,"prices":[
                 {"model":"fake-chat","inputMicrosPerMillionTokens":%d,"cachedInputMicrosPerMillionTokens":%d,"outputMicrosPerMillionTokens":%d}]}"""
                .formatted(plan, plan, INPUT_MICROS * 1_000_000, INPUT_MICROS * 1_000_000, OUTPUT_MICROS * 1_000_000)).statusCode()).isEqualTo(201);
        assertThat(admin("POST", "/admin/v1/tenants", """
                {"tenantId":"%s","name":"%s","billingTimeZone":"Pacific/Kiritimati","currency":"USD","planId":"%s"}"""
                .formatted(tenant, tenant, plan)).statusCode()).isEqualTo(201);
        assertThat(admin("PUT", "/admin/v1/tenants/" + tenant + "/billing-mode", "{\"mode\":\"PREPAID\"}").statusCode()).isEqualTo(200);
        HttpResponse<String> grant = admin("POST", "/admin/v1/tenants/" + tenant + "/credit-grants",
                "{\"amountMicros\":" + credit + ",\"source\":\"PROMOTION\",\"reason\":\"welcome credit\"}");
        assertThat(grant.statusCode()).as(grant.body()).isEqualTo(201);
        HttpResponse<String> key = admin("POST", "/admin/v1/tenants/" + tenant + "/keys", "{\"name\":\"load\",\"scopes\":[\"inference\"]}");
        String apiKey = EventCodec.mapper().readTree(key.body()).path("apiKey").asText();
        for (LocalGateway gateway : gateways) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                HttpResponse<String> answer = complete(gateway, apiKey, false, 1);
                return answer.statusCode() == 200 && answer.headers().firstValue("x-tollgate-balance-remaining").isPresent();
            });
        }
        return new Prepaid(tenant, apiKey);
    }

    @Test
    void aPaymentConfirmedTwiceAndOutOfOrderGrantsOnceAForgedOneGrantsNothingAndRefundsLowerThenVoidTheGrant() throws Exception {
        String tenant = "buyer-" + UUID.randomUUID().toString().substring(0, 6);
        assertThat(admin("POST", "/admin/v1/tenants", "{\"tenantId\":\"" + tenant + "\",\"name\":\"" + tenant
                + "\",\"billingTimeZone\":\"America/Los_Angeles\",\"currency\":\"USD\",\"planId\":\"dev\"}").statusCode()).isEqualTo(201);
        String financeToken = stack.token("finance", List.of("billing"), null);
        await().atMost(Duration.ofSeconds(30)).until(() -> HTTP.send(HttpRequest.newBuilder(URI.create(stack.billingUrl()
                        + "/billing/v1/tenants/" + tenant + "/balance")).header("authorization", "Bearer " + financeToken).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
        String sessionId = buyCredit(tenant, 25_000_000).path("sessionId").asText();
        JsonObject completed = stack.stripe().pay(sessionId);
        await().atMost(Duration.ofSeconds(30)).until(() -> purchases(tenant).size() == 1);

        // Stripe delivers the same event again, then a late async_payment_succeeded for the same session.
        assertThat(stack.stripe().deliver(completed)).isEqualTo(200);
        JsonObject late = stack.stripe().event("checkout.session.async_payment_succeeded",
                completed.getJsonObject("data").getJsonObject("object"));
        assertThat(stack.stripe().deliver(late)).isEqualTo(200);
        // A forged event (signed with another secret) for a session nobody paid, and a signed one of an unpaid session.
        JsonObject forged = completed.copy().put("id", "evt_forged");
        forged.getJsonObject("data").getJsonObject("object").put("id", "cs_test_forged").put("amount_total", 9_999_900L);
        String payload = forged.encode();
        HttpResponse<String> refused = stripeWebhook(payload, FakeStripe.signature(payload, "whsec_wrong", System.currentTimeMillis() / 1000));
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("invalid_signature");
        String unpaidSession = buyCredit(tenant, 5_000_000).path("sessionId").asText();
        JsonObject unpaid = stack.stripe().event("checkout.session.completed", stack.stripe().checkoutSessions().get(unpaidSession));
        assertThat(stack.stripe().deliver(unpaid)).isEqualTo(200);

        Thread.sleep(2_000); // what a second grant would need to appear
        List<JsonNode> grants = purchases(tenant);
        assertThat(grants).hasSize(1);
        assertThat(grants.getFirst().path("externalId").asText()).isEqualTo(sessionId);
        assertThat(grants.getFirst().path("amountMicros").asLong()).isEqualTo(25_000_000);
        assertThat(grants.getFirst().path("reason").asText()).contains(sessionId);
        System.out.printf("payment %s: delivered twice, then async_payment_succeeded, a forged and an unpaid event -> %d grant%n",
                sessionId, grants.size());

        // A partial refund lowers the grant in proportion from then on (10.00 of 25.00: 15.00 left), once even when Stripe
        // delivers it twice; refunding the rest voids what is left of the grant, once.
        JsonObject partial = stack.stripe().refund(sessionId, 1_000);
        assertThat(partial).isNotNull();
        long partialAt = System.nanoTime();
        JsonNode reduced = await().atMost(Duration.ofSeconds(30)).until(() -> purchases(tenant).getFirst(),
                grant -> grant.path("reductions").size() == 1);
        long reducedMs = (System.nanoTime() - partialAt) / 1_000_000;
        assertThat(reduced.path("reductions").get(0).path("amountMicros").asLong()).isEqualTo(15_000_000);
        assertThat(reduced.hasNonNull("voidedAt")).as("a partial refund voids nothing").isFalse();
        assertThat(stack.stripe().deliver(partial)).isEqualTo(200);
        JsonNode partly = await().atMost(Duration.ofSeconds(30)).until(() -> balance(tenant).path("grants").get(0),
                line -> line.path("withdrawnMicros").asLong() == 10_000_000);
        assertThat(partly.path("remainingMicros").asLong()).isEqualTo(15_000_000);
        Thread.sleep(1_000);
        assertThat(purchases(tenant).getFirst().path("reductions").size()).as("the partial refund delivered again").isEqualTo(1);
        JsonObject refunded = stack.stripe().refund(sessionId, 1_500);
        assertThat(refunded).isNotNull();
        long refundedAt = System.nanoTime();
        JsonNode voided = await().atMost(Duration.ofSeconds(30)).until(() -> purchases(tenant).getFirst(),
                grant -> grant.hasNonNull("voidedAt"));
        assertThat(voided.path("voidReason").asText()).contains(sessionId, "refunded");
        assertThat(stack.stripe().deliver(refunded)).isEqualTo(200); // delivered again: nothing more
        JsonNode balance = balance(tenant);
        assertThat(balance.path("grants").get(0).path("status").asText()).isEqualTo("VOIDED");
        System.out.printf("refund of %s: a partial one lowered the grant to 15.00 after %d ms, the full one voided it after %d ms%n",
                sessionId, reducedMs, (System.nanoTime() - refundedAt) / 1_000_000);
    }

    @Test
    void aDollarOfCreditIsSpentThroughThreeReplicasThenRefusedWith402AndATopUpRestoresServiceEverywhere() throws Exception {
        Prepaid prepaid = prepaidTenant(CREDIT);
        String tenant = prepaid.tenant();
        String apiKey = prepaid.apiKey();

        int clientsPerReplica = 4;
        // While the fleet spends, the billing API shows what the replicas hold beyond the projector's burn (their heartbeats).
        var mostInFlight = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleWithFixedDelay(() -> {
            try {
                mostInFlight.accumulateAndGet(balance(tenant).path("inFlightMicros").asLong(), Math::max);
            } catch (Exception | AssertionError e) {
                // a 503 while the projector commits: the next sample
            }
        }, 0, 100, TimeUnit.MILLISECONDS);
        BudgetLoad.Result load;
        try {
            load = BudgetLoad.untilUsedUp(gateways, clientsPerReplica, 402,
                    (gateway, reserveCompletion) -> complete(gateway, apiKey, true, reserveCompletion ? COMPLETION_TOKENS : 0),
                    answer -> assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200), refusal -> { },
                    () -> spentMicros(tenant, 0));
        } finally {
            sampler.shutdownNow();
        }
        BudgetLoad.awaitSettled(() -> spentMicros(tenant, -1));
        assertThat(mostInFlight.get()).as("in flight while the fleet spent").isPositive();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(balance(tenant).path("inFlightMicros").asLong())
                .as("nothing in flight once the projector has counted everything").isZero());
        System.out.printf("in flight fleet-wide during the load: at most %,d micro-USD (from the replicas' heartbeats), 0 after%n",
                mostInFlight.get());
        QuotaState spent = latestCredit(tenant);
        long overshoot = Math.max(0, spent.usedSpendMicros() - CREDIT);
        // ADR 0027 (the bound of ADR 0009 in money): per stream in flight, one chunk and the prompt estimate's error; plus
        // (N-1)/N of what the fleet spends while replicas read different state versions, one request per client.
        long promptError = 20;
        long bound = (long) REPLICAS * clientsPerReplica * (OUTPUT_MICROS + promptError * INPUT_MICROS)
                + (long) (REPLICAS - 1) * clientsPerReplica * (COMPLETION_TOKENS * OUTPUT_MICROS + 20 * INPUT_MICROS);
        JsonNode balance = balance(tenant);
        System.out.printf("prepaid credit %,d micro-USD through %d replicas x %d clients for %.1f s: %d answers (%d cut mid-stream), "
                        + "%d refused 402; burned %,d + unfunded %,d = %,d micro-USD: overshoot %,d micro-USD, bound %,d%n",
                CREDIT, REPLICAS, clientsPerReplica, load.seconds(), load.served(), load.cut(), load.refused(),
                balance.path("usedMicros").asLong(), balance.path("unfundedMicros").asLong(), spent.usedSpendMicros(), overshoot, bound);
        assertThat(spent.usedSpendMicros()).as("the credit is spent, not refused early").isGreaterThan(CREDIT * 9 / 10);
        assertThat(overshoot).isLessThanOrEqualTo(bound);
        assertThat(load.cut()).as("streams without max_tokens are cut when the balance runs out").isPositive();
        // The billing API reads the same burn: granted = burned + left, unfunded usage beyond it.
        assertThat(balance.path("unfundedMicros").asLong()).isEqualTo(spent.unfundedMicros());
        assertThat(balance.path("usedMicros").asLong() + balance.path("unfundedMicros").asLong())
                .isBetween(spent.usedSpendMicros(), spent.usedSpendMicros() + 1);
        assertThat(balance.path("remainingMicros").asLong())
                .isEqualTo(Math.max(0, CREDIT - balance.path("usedMicros").asLong() - balance.path("unfundedMicros").asLong()));
        assertThat(balance.path("grants").get(0).path("status").asText()).isIn("ACTIVE", "SPENT");

        // The auditor reproduces the live balance from the log alone: every grant's burn and the unfunded usage.
        var report = new ByteArrayOutputStream();
        int exit = AuditRun.run(report, "balance", tenant, "--bootstrap-servers", stack.kafkaBootstrapServers());
        System.out.print(report.toString(StandardCharsets.UTF_8));
        assertThat(exit).as(report.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(report.toString(StandardCharsets.UTF_8)).contains("OK: the projector's live balance");
        // ... and the balance before any usage: the whole grant.
        var before = new ByteArrayOutputStream();
        assertThat(AuditRun.run(before, "balance", tenant, "--bootstrap-servers", stack.kafkaBootstrapServers(), "--at",
                Instant.parse(balance.path("grants").get(0).path("grantedAt").asText()).toString(), "--format", "json")).isZero();
        JsonNode atGrant = EventCodec.mapper().readTree(before.toString(StandardCharsets.UTF_8)).path("statement");
        assertThat(atGrant.path("remainingMicros").asLong()).isEqualTo(CREDIT);

        HttpResponse<String> refusal = load.lastRefusal();
        assertThat(refusal).isNotNull();
        JsonNode error = EventCodec.mapper().readTree(refusal.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("insufficient_quota");
        assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
        assertThat(error.path("message").asText()).contains("prepaid balance").contains("USD left");
        assertThat(refusal.headers().firstValue("x-tollgate-balance-remaining")).isPresent();
        assertThat(refusal.headers().firstValue("retry-after")).isEmpty();

        // A top-up through Stripe's checkout: the tenant-admin starts it, pays on the (fake) hosted page, Stripe's signed
        // webhook confirms it; every replica serves again within 2 s of the payment, without a restart.
        String sessionId = buyCredit(tenant, CREDIT).path("sessionId").asText();
        long toppedUp = System.nanoTime();
        assertThat(stack.stripe().pay(sessionId)).isNotNull();
        var restored = new ArrayList<Long>();
        for (LocalGateway gateway : gateways) {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> complete(gateway, apiKey, false, 1).statusCode() == 200);
            restored.add((System.nanoTime() - toppedUp) / 1_000_000);
        }
        System.out.printf("top-up -> served by every replica after %s ms (target 2,000 ms)%n", restored);
        assertThat(restored).allSatisfy(ms -> assertThat(ms).isLessThan(2_000));
        // The top-up pays the overshoot first: what is left is the new grant less the unfunded usage.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(balance(tenant).path("unfundedMicros").asLong()).isZero());
        JsonNode after = balance(tenant);
        assertThat(after.path("grantedMicros").asLong()).isEqualTo(2 * CREDIT);
        assertThat(after.path("remainingMicros").asLong()).isEqualTo(2 * CREDIT - after.path("usedMicros").asLong());
        assertThat(Instant.parse(after.path("at").asText())).isBefore(Instant.now().plusSeconds(1));
        var afterTopUp = new ByteArrayOutputStream();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            afterTopUp.reset();
            return AuditRun.run(afterTopUp, "balance", tenant, "--bootstrap-servers", stack.kafkaBootstrapServers()) == 0;
        });
        System.out.print(afterTopUp.toString(StandardCharsets.UTF_8));
    }

    /** GET (json null) or PUT the tenant's automatic top-up as its admin; a 503 (the projector rebalancing) is retried, as a client does. */
    private static HttpResponse<String> autoTopUp(String tenant, String json) throws Exception {
        return await().atMost(Duration.ofSeconds(30)).until(() -> autoTopUpOnce(tenant, json), response -> response.statusCode() != 503);
    }

    private static HttpResponse<String> autoTopUpOnce(String tenant, String json) throws Exception {
        String token = stack.token("owner@" + tenant, List.of("tenant-admin"), tenant);
        return HTTP.send(HttpRequest.newBuilder(URI.create(stack.billingUrl() + "/billing/v1/tenants/" + tenant + "/auto-top-up"))
                .header("authorization", "Bearer " + token).header("content-type", "application/json")
                .method(json == null ? "GET" : "PUT", json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Calls through one replica until what is left of the tenant's balance is below {@code micros}. */
    private static void spendBelow(Prepaid prepaid, long micros) throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
            complete(gateways.getFirst(), prepaid.apiKey(), false, COMPLETION_TOKENS);
            return balance(prepaid.tenant()).path("remainingMicros").asLong() < micros;
        });
    }

    @Test
    void belowItsThresholdABalanceIsToppedUpOnceFromTheSavedCardAndARefusedCardIsReportedToTheWebhookOnce() throws Exception {
        Prepaid paying = prepaidTenant(CREDIT);
        HttpResponse<String> unknown = autoTopUp(paying.tenant(),
                "{\"thresholdMicros\":800000,\"amountMicros\":5000000,\"paymentMethodId\":\"pm_card_missing\"}");
        assertThat(unknown.statusCode()).as("a method Stripe refuses to attach is refused when saved: " + unknown.body()).isEqualTo(400);
        HttpResponse<String> saved = autoTopUp(paying.tenant(),
                "{\"thresholdMicros\":800000,\"amountMicros\":5000000,\"paymentMethodId\":\"pm_card_visa\"}");
        assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);
        spendBelow(paying, 800_000);
        long crossed = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).until(() -> purchases(paying.tenant()).size() == 1);
        long grantedAfter = (System.nanoTime() - crossed) / 1_000_000;
        JsonNode topUp = purchases(paying.tenant()).getFirst();
        assertThat(topUp.path("amountMicros").asLong()).isEqualTo(5_000_000);
        assertThat(topUp.path("externalId").asText()).startsWith("pi_");
        // Spending on, above the threshold again: no second charge for the same crossing.
        for (int i = 0; i < 20; i++) {
            assertThat(complete(gateways.getFirst(), paying.apiKey(), false, COMPLETION_TOKENS).statusCode()).isEqualTo(200);
        }
        Thread.sleep(5_000);
        assertThat(purchases(paying.tenant())).hasSize(1);
        JsonNode setting = EventCodec.mapper().readTree(autoTopUp(paying.tenant(), null).body());
        assertThat(setting.path("attempts")).hasSize(1);
        assertThat(setting.path("attempts").get(0).path("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(stack.stripe().paymentIntents().values()).filteredOn(pi -> pi.getString("customer") != null
                && paying.tenant().equals(pi.getJsonObject("metadata").getString("tenant_id"))).hasSize(1);
        System.out.printf("auto top-up: below 800,000 micro-USD -> one 5,000,000 grant %d ms later, none more%n", grantedAfter);

        Prepaid declined = prepaidTenant(CREDIT);
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            assertThat(admin("PUT", "/admin/v1/tenants/" + declined.tenant() + "/webhook", "{\"url\":\"" + receiver.url() + "\"}").statusCode())
                    .isEqualTo(200);
            assertThat(autoTopUp(declined.tenant(), "{\"thresholdMicros\":800000,\"amountMicros\":5000000,"
                    + "\"paymentMethodId\":\"pm_card_chargeDeclined\"}").statusCode()).isEqualTo(200);
            spendBelow(declined, 800_000);
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.deliveries().stream()
                    .anyMatch(d -> d.body().contains("dev.tollgate.billing.autotopup.failed.v1")));
            for (int i = 0; i < 10; i++) {
                complete(gateways.getFirst(), declined.apiKey(), false, COMPLETION_TOKENS);
            }
            Thread.sleep(5_000);
            List<WebhookReceiver.Delivery> failures = receiver.deliveries().stream()
                    .filter(d -> d.body().contains("dev.tollgate.billing.autotopup.failed.v1")).toList();
            assertThat(failures).as("one report per crossing").hasSize(1);
            assertThat(failures.getFirst().signature()).startsWith("t=").contains(",v1=");
            JsonNode failure = EventCodec.mapper().readTree(failures.getFirst().body()).path("data");
            assertThat(failure.path("code").asText()).isEqualTo("card_declined");
            assertThat(failure.path("remainingMicros").asLong()).isLessThan(800_000);
            assertThat(purchases(declined.tenant())).isEmpty();
            JsonNode attempts = EventCodec.mapper().readTree(autoTopUp(declined.tenant(), null).body()).path("attempts");
            assertThat(attempts).hasSize(1);
            assertThat(attempts.get(0).path("status").asText()).isEqualTo("FAILED");
            System.out.printf("auto top-up with a declined card: one %s report to the webhook, no grant, no second try%n",
                    failure.path("code").asText());
        }
    }
}
