package dev.tollgate.projector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.billing.InvoiceIds;
import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.http.SlowSenders;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.stripe.FakeStripe;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static dev.tollgate.projector.support.UsageEvents.completed;
import static dev.tollgate.projector.support.UsageEvents.json;
import static dev.tollgate.projector.support.UsageEvents.priceList;
import static dev.tollgate.projector.support.UsageEvents.streamed;
import static dev.tollgate.projector.support.UsageEvents.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The billing service end to end over HTTP: usage in, finalized and draft invoices and live usage
 * out, role and tenant checks, Stripe sync against the fake Stripe (a 500 retried with the same
 * idempotency key, a repeated sync creating nothing), signed Stripe webhooks, and interactive
 * queries answered by whichever of two instances owns the tenant.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BillingApiIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String WEBHOOK_SECRET = "whsec_test_secret_for_the_fake";
    private static final PriceListPublished PRICES = priceList("pl-1", "pro", Instant.parse("2026-08-01T00:00:00Z"), "m",
            3_000_000, 1_500_000, 15_000_000);
    private static final List<String> TENANTS = List.of("acme", "globex", "initech", "umbrella", "hooli", "stark");
    private static final List<String> CREDIT_TENANTS = List.of("wayne", "oscorp");

    private static EmbeddedKafka kafka;
    private static PostgresDatabase database;
    private static FakeStripe stripe;
    private static BillingInstance billing;
    private static Path stateRoot;
    private static String invoiceId;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.startEphemeral();
        database = PostgresDatabase.create("billing_api_it");
        stripe = FakeStripe.start();
        stateRoot = Files.createTempDirectory("billing-api-it");
        try (var producer = producer()) {
            for (String tenant : TENANTS) {
                producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), tenant, tenant(tenant, "pro", "UTC"))).get();
            }
            producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), PRICES.priceListId(), json(PRICES))).get();
            // September for acme: 10 requests of 120,000 prompt tokens (20,000 cached) and 4,000 completion tokens.
            for (int i = 0; i < 10; i++) {
                Instant time = Instant.parse("2026-09-10T12:00:00Z").plusSeconds(i);
                send(producer, streamed("sep-s" + i, "acme", "k1", "m", time, 1_000));
                send(producer, completed("sep-c" + i, "acme", "k1", "m", time.plusMillis(500), 120_000, 20_000, 4_000, 1_000));
            }
            send(producer, completed("sep-c0", "acme", "k1", "m", Instant.parse("2026-09-10T12:00:00.500Z"), 120_000, 20_000, 4_000, 1_000));
            // October closes September (grace one hour); now-ish usage for every tenant is the open period.
            send(producer, completed("oct-1", "acme", "k1", "m", Instant.parse("2026-10-05T00:00:00Z"), 1_000, 0, 10, 0));
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            for (String tenant : TENANTS) {
                send(producer, completed("now-" + tenant, tenant, "k-" + tenant, "m", now, 1_000, 0, 100 + tenant.length(), 0));
            }
            // Prepaid credit (ADR 0028): wayne is HYBRID with $2.00 of credit, oscorp PREPAID with $1.00; each uses acme's $3.90 in
            // September, and a request now closes September on its partition.
            producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), "wayne", withCredit("wayne", BillingMode.HYBRID, 2_000_000))).get();
            producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), "oscorp", withCredit("oscorp", BillingMode.PREPAID, 1_000_000))).get();
            for (String tenant : CREDIT_TENANTS) {
                for (int i = 0; i < 10; i++) {
                    Instant time = Instant.parse("2026-09-10T12:00:00Z").plusSeconds(i);
                    send(producer, completed("sep-" + tenant + i, tenant, "k-" + tenant, "m", time, 120_000, 20_000, 4_000, 0));
                }
                send(producer, completed("now-" + tenant, tenant, "k-" + tenant, "m", now, 1_000, 0, 10, 0));
            }
            // One record no parser can read: the projector dead-letters it, and the dead-letters summary shows where it came from.
            producer.send(new ProducerRecord<>(Topics.USAGE.name(), "acme", "not a usage event".getBytes(StandardCharsets.UTF_8))).get();
        }
        billing = BillingInstance.builder(kafka.bootstrapServers(), database, "billing-api-it", stateRoot.resolve("a"))
                .set("tollgate.projector.grace", "PT1H")
                .set("tollgate.stripe.api-key", "sk_test_fake")
                .set("tollgate.stripe.api-base", stripe.apiBase())
                .set("tollgate.stripe.webhook-secret", WEBHOOK_SECRET)
                .set("tollgate.stripe.max-network-retries", 2)
                .start();
    }

    @AfterAll
    static void stop() {
        if (billing != null) {
            billing.close();
        }
        stripe.close();
        database.close();
        kafka.close();
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(),
                new ByteArraySerializer());
    }

    private static void send(KafkaProducer<String, byte[]> producer, CloudEvent<?> event) throws Exception {
        producer.send(new ProducerRecord<>(Topics.USAGE.name(), event.tenantid(), EventCodec.encode(event))).get();
    }

    private static String token(String role, String tenant) {
        return BillingInstance.TOKENS.token("someone", List.of(role), tenant);
    }

    private static JsonNode json200(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return MAPPER.readTree(response.body());
    }

    @Test
    @Order(2)
    void financeListsEveryTenantsInvoiceOfAPeriodAndTenantAdminsCannot() throws Exception {
        JsonNode september = json200(billing.call("GET", "/billing/v1/invoices?period=2026-09", token("auditor", null)));
        JsonNode acme = null;
        for (JsonNode invoice : september) {
            assertThat(invoice.path("period").asText()).isEqualTo("2026-09");
            if (invoice.path("tenantId").asText().equals("acme")) {
                acme = invoice;
            }
        }
        assertThat(acme).isNotNull();
        assertThat(acme.path("status").asText()).isEqualTo("FINALIZED");
        assertThat(acme.path("totalMicros").asLong()).isEqualTo(3_900_000);
        assertThat(billing.call("GET", "/billing/v1/invoices?period=2026-09", token("tenant-admin", "acme")).statusCode()).isEqualTo(403);
        assertThat(billing.call("GET", "/billing/v1/invoices?period=2026-9", token("billing", null)).statusCode()).isEqualTo(400);
        assertThat(billing.call("GET", "/billing/v1/invoices?period=2026-09&limit=501", token("billing", null)).statusCode()).isEqualTo(400);
        JsonNode letters = await().atMost(Duration.ofSeconds(30)).until(
                () -> json200(billing.call("GET", "/billing/v1/dead-letters", token("platform-admin", null))),
                summary -> summary.path("count").asLong() >= 1);
        assertThat(letters.path("latest")).anySatisfy(letter -> {
            assertThat(letter.path("origin").asText()).startsWith(Topics.USAGE.name() + "/");
            assertThat(letter.path("error").asText()).isNotBlank();
            assertThat(letter.toString()).as("a dead letter's value is never shown").doesNotContain("not a usage event");
        });
        assertThat(billing.call("GET", "/billing/v1/dead-letters", token("tenant-admin", "acme")).statusCode()).isEqualTo(403);
    }

    @Test
    @Order(1)
    void aClosedPeriodIsFinalizedOnceWithPricedLinesAndTheOpenPeriodIsADraft() throws Exception {
        String admin = token("billing", null);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            JsonNode list = MAPPER.readTree(billing.call("GET", "/billing/v1/tenants/acme/invoices", admin).body());
            return list.isArray() && list.size() == 3 && "FINALIZED".equals(list.get(2).path("status").asText());
        });
        // Today's usage closed October too; the current month is open.
        JsonNode list = json200(billing.call("GET", "/billing/v1/tenants/acme/invoices", admin));
        assertThat(list.get(0).path("period").asText()).isEqualTo(YearMonth.now(ZoneOffset.UTC).toString());
        assertThat(list.get(0).path("status").asText()).isEqualTo("DRAFT");
        assertThat(list.get(0).path("totalMicros").asLong()).isEqualTo(4_560); // 1,000 x $3 + 104 x $15 per million
        assertThat(list.get(1).path("period").asText()).isEqualTo("2026-10");
        assertThat(list.get(1).path("status").asText()).isEqualTo("FINALIZED");
        invoiceId = list.get(2).path("invoiceId").asText();

        JsonNode invoice = json200(billing.call("GET", "/billing/v1/invoices/" + invoiceId, admin));
        assertThat(invoice.path("period").asText()).isEqualTo("2026-09");
        assertThat(invoice.path("eventCount").asLong()).isEqualTo(20); // the re-delivered sep-c0 counted once
        // 1,000,000 input x $3 + 200,000 cached x $1.50 + 40,000 output x $15 per million = $3.90
        assertThat(invoice.path("totalMicros").asLong()).isEqualTo(3_900_000);
        assertThat(invoice.path("total").asText()).isEqualTo("3.900000");
        List<String> lines = new ArrayList<>();
        invoice.path("lines").forEach(l -> lines.add(l.path("tokenKind").asText() + " " + l.path("quantity").asLong() + " "
                + l.path("amountMicros").asLong() + " " + l.path("eventCount").asLong()));
        assertThat(lines).containsExactly("INPUT 1000000 3000000 10", "CACHED_INPUT 200000 300000 10", "OUTPUT 40000 600000 20");
        JsonNode output = invoice.path("lines").get(2);
        assertThat(output.path("firstEventId").asText()).isEqualTo("sep-c0");
        assertThat(output.path("lastEventId").asText()).isEqualTo("sep-s9");
        assertThat(output.path("eventDigest").asText()).hasSize(64);
    }

    @Test
    @Order(2)
    void liveUsageComesFromTheProjectorsStoresPerMonthDayAndMinute() throws Exception {
        String auditor = token("auditor", null);
        // 503 + Retry-After while the projector rebalances: a client retries.
        JsonNode month = await().atMost(Duration.ofSeconds(30)).until(() -> billing.call("GET",
                "/billing/v1/tenants/acme/usage?from=2026-09-01&to=2026-10-01&granularity=month", auditor), r -> r.statusCode() != 503)
                .body().transform(body -> {
                    try {
                        return MAPPER.readTree(body);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
        assertThat(month.path("buckets")).hasSize(1);
        JsonNode september = month.path("buckets").get(0);
        assertThat(september.path("start").asText()).isEqualTo("2026-09");
        assertThat(september.path("inputTokens").asLong()).isEqualTo(1_000_000);
        assertThat(september.path("cachedInputTokens").asLong()).isEqualTo(200_000);
        assertThat(september.path("outputTokens").asLong()).isEqualTo(40_000);
        assertThat(september.path("amountMicros").asLong()).isEqualTo(3_900_000);

        Instant now = Instant.now();
        String from = now.minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MINUTES).toString();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode minutes = json200(billing.call("GET", "/billing/v1/tenants/globex/usage?granularity=minute&from=" + from,
                    token("tenant-admin", "globex")));
            assertThat(minutes.path("totals").path("outputTokens").asLong()).isEqualTo(106);
            assertThat(minutes.path("buckets").get(0).path("keyId").asText()).isEqualTo("k-globex");
        });
    }

    @Test
    @Order(3)
    void everyCallerSeesOnlyWhatItsRoleAndTenantAllow() throws Exception {
        String path = "/billing/v1/invoices/" + invoiceId;
        assertThat(billing.call("GET", path, null).statusCode()).isEqualTo(401);
        assertThat(billing.call("GET", path, "not-a-jwt").statusCode()).isEqualTo(401);
        assertThat(billing.call("GET", path, token("tenant-admin", "acme")).statusCode()).isEqualTo(200);
        HttpResponse<String> foreign = billing.call("GET", path, token("tenant-admin", "globex"));
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(foreign.headers().firstValue("content-type")).hasValue("application/problem+json");
        assertThat(foreign.body()).doesNotContain("acme");
        assertThat(billing.call("GET", "/billing/v1/tenants/acme/invoices", token("tenant-admin", "globex")).statusCode()).isEqualTo(404);
        assertThat(billing.call("GET", "/billing/v1/tenants/acme/usage", token("tenant-admin", "globex")).statusCode()).isEqualTo(404);
        assertThat(billing.call("POST", path + ":sync-stripe", token("auditor", null)).statusCode()).isEqualTo(403);
        assertThat(billing.call("POST", path + ":sync-stripe", token("tenant-admin", "acme")).statusCode()).isEqualTo(403);
        assertThat(billing.call("GET", "/billing/v1/invoices/inv_000000000000000000000000", token("platform-admin", null)).statusCode())
                .isEqualTo(404);
        assertThat(billing.call("GET", "/billing/v1/tenants/acme/usage?granularity=hourly", token("billing", null)).statusCode())
                .isEqualTo(400);
        // Prepaid balance and credit purchases (ADR 0027): a tenant-admin of another tenant learns nothing; an auditor reads
        // but never starts a payment.
        assertThat(billing.call("GET", "/billing/v1/tenants/acme/balance", token("tenant-admin", "globex")).statusCode()).isEqualTo(404);
        assertThat(billing.call("POST", "/billing/v1/tenants/acme/credit-purchases", token("tenant-admin", "globex"), "{\"amountMicros\":5000000}",
                Map.of("content-type", "application/json")).statusCode()).isEqualTo(404);
        assertThat(billing.call("POST", "/billing/v1/tenants/acme/credit-purchases", token("auditor", null), "{\"amountMicros\":5000000}",
                Map.of("content-type", "application/json")).statusCode()).isEqualTo(403);
        await().atMost(Duration.ofSeconds(30)).until(() -> billing.call("GET", "/billing/v1/tenants/acme/balance", token("auditor", null))
                .statusCode() != 503);
        JsonNode balance = json200(billing.call("GET", "/billing/v1/tenants/acme/balance", token("tenant-admin", "acme")));
        assertThat(balance.path("mode").asText()).isEqualTo("POSTPAID");
        assertThat(balance.path("remainingMicros").asLong()).isZero();
        assertThat(balance.path("grants")).isEmpty();
        // Not a whole number of cents, or below a unit: refused before Stripe is asked.
        for (String amount : new String[] {"5000001", "999999", "-5"}) {
            HttpResponse<String> bad = billing.call("POST", "/billing/v1/tenants/acme/credit-purchases", token("billing", null),
                    "{\"amountMicros\":" + amount + "}", Map.of("content-type", "application/json"));
            assertThat(bad.statusCode()).as(amount + ": " + bad.body()).isEqualTo(400);
        }
    }

    @Test
    @Order(4)
    void stripeSyncSendsCustomerInvoiceItemsAndFinalizationWithIdempotencyKeysAndNeverDuplicates() throws Exception {
        stripe.failNext("/v1/invoiceitems", 500, 1);
        JsonNode synced = json200(billing.call("POST", "/billing/v1/invoices/" + invoiceId + ":sync-stripe", token("billing", null)));
        assertThat(synced.path("stripe").path("status").asText()).isEqualTo("SYNCED");
        assertThat(synced.path("stripe").path("totalMinorUnits").asLong()).isEqualTo(390);

        List<FakeStripe.Request> posts = stripe.requests().stream().filter(r -> r.method().equals("POST")).toList();
        assertThat(posts).extracting(FakeStripe.Request::path).containsExactly("/v1/customers", "/v1/invoices", "/v1/invoiceitems",
                "/v1/invoiceitems", "/v1/invoiceitems", "/v1/invoiceitems",
                "/v1/invoices/" + synced.path("stripe").path("invoiceId").asText() + "/finalize");
        assertThat(posts).allSatisfy(r -> {
            assertThat(r.idempotencyKey()).startsWith("tollgate:");
            assertThat(r.authorization()).isEqualTo("Bearer sk_test_fake");
        });
        assertThat(posts.get(2).status()).isEqualTo(500);
        assertThat(posts.get(3).idempotencyKey()).isEqualTo(posts.get(2).idempotencyKey()); // the retry reuses the key
        assertThat(posts.get(0).form()).containsEntry("metadata[tenant_id]", "acme");
        assertThat(posts.get(1).form()).containsEntry("currency", "usd").containsEntry("metadata[tollgate_invoice_id]", invoiceId)
                .containsEntry("pending_invoice_items_behavior", "exclude");
        assertThat(posts.subList(3, 6)).extracting(r -> r.form().get("amount")).containsExactly("300", "30", "60");
        assertThat(stripe.invoices()).hasSize(1);
        assertThat(stripe.invoiceItems()).hasSize(3);

        int before = stripe.requests().size();
        json200(billing.call("POST", "/billing/v1/invoices/" + invoiceId + ":sync-stripe", token("platform-admin", null)));
        assertThat(stripe.requests()).hasSize(before);
        assertThat(stripe.customers()).hasSize(1);
    }

    @Test
    @Order(5)
    void signedStripeWebhooksUpdateTheInvoiceOnceAndABadSignatureChangesNothing() throws Exception {
        String stripeInvoice = json200(billing.call("GET", "/billing/v1/invoices/" + invoiceId, token("billing", null)))
                .path("stripe").path("invoiceId").asText();
        String paid = "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"invoice.paid\",\"data\":{\"object\":{\"id\":\"" + stripeInvoice
                + "\",\"object\":\"invoice\"}}}";
        String failed = paid.replace("evt_1", "evt_2").replace("invoice.paid", "invoice.payment_failed");
        long now = Instant.now().getEpochSecond();

        HttpResponse<String> forged = webhook(failed, FakeStripe.signature(failed, "whsec_wrong", now));
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(webhook(failed, null).statusCode()).isEqualTo(400);
        assertThat(webhook(paid, FakeStripe.signature(paid, WEBHOOK_SECRET, now - 3600)).statusCode()).isEqualTo(400); // replayed
        assertThat(status()).isEqualTo("FINALIZED");

        JsonNode first = json200(webhook(paid, FakeStripe.signature(paid, WEBHOOK_SECRET, now)));
        assertThat(first.path("duplicate").asBoolean()).isFalse();
        assertThat(status()).isEqualTo("PAID");
        JsonNode again = json200(webhook(paid, FakeStripe.signature(paid, WEBHOOK_SECRET, now)));
        assertThat(again.path("duplicate").asBoolean()).isTrue();
        json200(webhook(failed, FakeStripe.signature(failed, WEBHOOK_SECRET, now))); // out of order: a paid invoice stays paid
        assertThat(status()).isEqualTo("PAID");
    }

    private static HttpResponse<String> webhook(String payload, String signature) {
        return billing.call("POST", "/billing/v1/stripe/webhook", null, payload,
                signature == null ? Map.of("Content-Type", "application/json")
                        : Map.of("Content-Type", "application/json", "Stripe-Signature", signature));
    }

    private static byte[] withCredit(String tenant, BillingMode mode, long micros) {
        Instant from = Instant.parse("2026-09-01T00:00:00Z");
        return EventCodec.encodeState(new TenantState(tenant, tenant, TenantState.Status.ACTIVE, "pro", "UTC", "USD", Limits.NONE, null, null, 2,
                from, null, true, List.of(new BillingModePeriod(mode, from)),
                List.of(new CreditGrant("cg-" + tenant, micros, CreditSource.PURCHASE, from, null, null, 50, List.of()))));
    }

    private static JsonNode finalizedSeptember(String tenant) {
        String admin = token("billing", null);
        String id = InvoiceIds.of(tenant, "2026-09");
        return await().atMost(Duration.ofSeconds(60)).until(() -> MAPPER.readTree(billing.call("GET", "/billing/v1/invoices/" + id, admin).body()),
                invoice -> "FINALIZED".equals(invoice.path("status").asText()));
    }

    private static List<String> credits(JsonNode invoice) {
        var credits = new ArrayList<String>();
        invoice.path("credits").forEach(c -> credits.add(c.path("creditNo").asInt() + " " + c.path("kind").asText() + " "
                + c.path("grantId").asText("-") + " " + c.path("amountMicros").asLong()));
        return credits;
    }

    @Test
    @Order(5)
    void creditsAppliedFollowTheLinesAndStripeChargesOnlyTheAmountDue() throws Exception {
        String admin = token("billing", null);
        JsonNode hybrid = finalizedSeptember("wayne");
        assertThat(hybrid.path("totalMicros").asLong()).isEqualTo(3_900_000); // the lines are what the usage costs
        assertThat(credits(hybrid)).containsExactly("1 GRANT cg-wayne 2000000");
        assertThat(hybrid.path("creditedMicros").asLong()).isEqualTo(2_000_000);
        assertThat(hybrid.path("amountDueMicros").asLong()).isEqualTo(1_900_000);
        assertThat(hybrid.path("amountDue").asText()).isEqualTo("1.900000");

        JsonNode prepaid = finalizedSeptember("oscorp");
        assertThat(credits(prepaid)).containsExactly("1 GRANT cg-oscorp 1000000", "2 UNFUNDED - 2900000");
        assertThat(prepaid.path("amountDueMicros").asLong()).isZero();
        // The list shows what is due too.
        JsonNode list = json200(billing.call("GET", "/billing/v1/tenants/oscorp/invoices", admin));
        assertThat(list).anySatisfy(i -> {
            assertThat(i.path("period").asText()).isEqualTo("2026-09");
            assertThat(i.path("amountDueMicros").asLong()).isZero();
            assertThat(i.path("creditedMicros").asLong()).isEqualTo(3_900_000);
        });

        JsonNode synced = json200(billing.call("POST", "/billing/v1/invoices/" + hybrid.path("invoiceId").asText() + ":sync-stripe", admin));
        assertThat(synced.path("stripe").path("totalMinorUnits").asLong()).isEqualTo(190);
        String stripeInvoice = synced.path("stripe").path("invoiceId").asText();
        assertThat(stripe.invoiceItems().values().stream().filter(item -> item.getString("invoice").equals(stripeInvoice))
                .map(item -> item.getLong("amount"))).containsExactlyInAnyOrder(300L, 30L, 60L, -200L);

        synced = json200(billing.call("POST", "/billing/v1/invoices/" + prepaid.path("invoiceId").asText() + ":sync-stripe", admin));
        assertThat(synced.path("stripe").path("totalMinorUnits").asLong()).isZero();
        String prepaidInvoice = synced.path("stripe").path("invoiceId").asText();
        assertThat(stripe.invoiceItems().values().stream().filter(item -> item.getString("invoice").equals(prepaidInvoice))
                .map(item -> item.getLong("amount"))).containsExactlyInAnyOrder(300L, 30L, 60L, -100L, -290L);
    }

    private static String status() throws Exception {
        return json200(billing.call("GET", "/billing/v1/invoices/" + invoiceId, token("billing", null))).path("status").asText();
    }

    @Test
    @Order(6)
    void withTwoInstancesEitherAnswersForEveryTenantFromTheInstanceThatOwnsIt() throws Exception {
        try (BillingInstance second = BillingInstance.builder(kafka.bootstrapServers(), database, "billing-api-it", stateRoot.resolve("b"))
                .set("tollgate.projector.grace", "PT1H").start()) {
            String admin = token("platform-admin", null);
            String from = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.DAYS).toString();
            var owners = new HashSet<String>();
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
                owners.clear();
                for (String tenant : TENANTS) {
                    String path = "/billing/v1/tenants/" + tenant + "/usage?from=" + from;
                    JsonNode viaFirst = json200(billing.call("GET", path, admin));
                    JsonNode viaSecond = json200(second.call("GET", path, admin));
                    assertThat(viaFirst.path("totals").path("outputTokens").asLong()).isEqualTo(100 + tenant.length());
                    assertThat(viaSecond.path("totals")).isEqualTo(viaFirst.path("totals"));
                    assertThat(viaSecond.path("servedBy")).isEqualTo(viaFirst.path("servedBy"));
                    owners.add(viaFirst.path("servedBy").asText());
                    assertThat(viaFirst.path("servedBy").asText()).as("an instance name, not an address").doesNotContain("127.0.0.1", ":");
                }
                assertThat(owners).hasSize(2); // both instances own some tenants
            });
        }
    }

    @Test
    @Order(7)
    void prometheusMetricsAreServedWithoutTenantLabels() {
        HttpResponse<String> metrics = billing.call("GET", "/metrics", null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("tollgate_projector_quota_state_lag_seconds", "tollgate_invoice_writer_records_total",
                "tollgate_stripe_sync_total{outcome=\"synced\"}", "tollgate_projector_quota_states_total", "kafka_stream_");
        for (String tenant : TENANTS) {
            assertThat(metrics.body()).doesNotContain("\"" + tenant + "\"");
        }
        assertThat(billing.call("GET", "/health/readiness", null).statusCode()).isEqualTo(200);
    }

    /**
     * Issue #19 item 6 on the billing API: the Stripe webhook takes bodies without a token, so slow
     * senders there are bounded by how many bodies may arrive slowly at once (ADR 0021), and the API
     * keeps answering.
     */
    @Test
    @Order(8)
    void slowBodiesOnTheStripeWebhookCannotStarveTheApi() throws Exception {
        String admin = token("platform-admin", null);
        String head = "POST /billing/v1/stripe/webhook HTTP/1.1\r\nHost: billing\r\nContent-Type: application/json\r\n"
                + "Stripe-Signature: t=1,v1=00\r\nContent-Length: 100000\r\n\r\n";
        try (SlowSenders senders = SlowSenders.open(billing.port(), 230, head)) {
            long slowest = senders.drip(6, () -> assertThat(billing.call("GET", "/billing/v1/tenants/acme/invoices", admin).statusCode())
                    .isEqualTo(200));
            assertThat(slowest).as("slowest API call during the attack, ms").isLessThan(1_000);
            assertThat(senders.answers(12)).as("every slow body is answered 408").allMatch(answer -> answer.equals("HTTP/1.1 408"));
        }
    }
}
