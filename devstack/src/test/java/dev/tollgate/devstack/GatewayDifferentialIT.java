package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.projector.reprice.BackfillRepricer;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.ConsumerGroups;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The differential proof through the real gateway (issue #18): tenants in zones east and west of
 * UTC on seeded random plans and prices, traffic through the dev stack's gateway (chat streamed,
 * not streamed and cut by the client, completions, embeddings, the Responses and the Messages API
 * streamed and not, rerank and score, transcriptions; reasoning and cache writes reported) under price lists that price some of the
 * units of ADR 0030 apart and not others, while plans switch at a scheduled
 * time and a price list takes effect mid-run, then plans backfilled over what was already billed. Every usage event on {@code usage.v1} must be billed once, and {@code tollgate-audit
 * replay} of the same log must reproduce every invoice. A tenant on a hard spend limit is driven
 * past it: what is billed stays within the limit plus the bound of ADR 0009, which only holds if
 * the gateway prices its reservations as billing does.
 */
class GatewayDifferentialIT {
    private static final long SEED = Long.getLong("gateway-differential.seed", 20_261_202L);
    private static final String DATABASE = "tg_gwdiff_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final List<String> ZONES = List.of("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Europe/Berlin",
            "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns");
    private static final int PLANS = 3;
    private static final int MAX_TOKENS = 20;
    /** The dearest price of any token kind, micro-units per million tokens. */
    private static final long MAX_PRICE = 9_100_000;
    private static final long BUDGET_MICROS = 20_000;
    private static final int BUDGET_CLIENTS = 2;
    /** How long the budget tenant's clients may call before its limit must have refused them. */
    private static final Duration BUDGET_DEADLINE = Duration.ofSeconds(90);

    @TempDir
    static Path dataDir;
    private static DevStack stack;

    @BeforeAll
    static void start() {
        stack = DevStack.start(DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE, "billing-database", DATABASE + "_billing",
                "ttft-ms", "0", "inter-token-ms", "1", "completion-tokens", "12"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
        BilledUsage.dropDatabases(PostgresDatabase.Server.fromEnvironment(), DATABASE, DATABASE + "_billing");
    }

    private static JsonNode admin(String method, String path, String json, int... expected) throws Exception {
        HttpResponse<String> response = StackAdmin.admin(stack, method, path, json);
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isIn(Arrays.stream(expected).boxed().toList());
        return response.body().isBlank() ? null : EventCodec.mapper().readTree(response.body());
    }

    /**
     * A price list of {@code plan} for both fake models, seeded random prices that rarely divide evenly; each unit of
     * ADR 0030 priced apart or not at random (cache writes and reasoning then bill as input and output).
     */
    private static void priceList(String id, String plan, Instant from, boolean backfill, Random random) throws Exception {
        String prices = DevStack.FAKE_MODELS.stream().map(model -> "{\"model\":\"" + model + "\",\"inputMicrosPerMillionTokens\":"
                + price(random) + ",\"cachedInputMicrosPerMillionTokens\":" + price(random) + ",\"outputMicrosPerMillionTokens\":"
                + price(random) + optionalPrice("cacheWriteInputMicrosPerMillionTokens", random)
                + optionalPrice("reasoningMicrosPerMillionTokens", random) + optionalPrice("documentMicrosPerMillionDocuments", random)
                + optionalPrice("requestMicrosPerMillionRequests", random) + optionalPrice("audioMicrosPerMillionSeconds", random) + "}")
                .collect(Collectors.joining(","));
        admin("POST", "/admin/v1/price-lists", """
                {"priceListId":"%s","planId":"%s","currency":"USD","effectiveFrom":"%s","backfill":%s,"prices":[%s]}"""
                .formatted(id, plan, from, backfill, prices), 201);
    }

    private static long price(Random random) {
        return 100_000 + random.nextInt((int) (MAX_PRICE - 100_000));
    }

    private static String optionalPrice(String field, Random random) {
        return random.nextBoolean() ? ",\"" + field + "\":" + price(random) : "";
    }

    /** One tenant under test and its key. */
    private record Tenant(String id, String zone, String apiKey) {}

    private static Tenant tenant(String id, String zone, String plan, String limits) throws Exception {
        admin("POST", "/admin/v1/tenants", """
                {"tenantId":"%s","name":"%s","billingTimeZone":"%s","currency":"USD","planId":"%s"}""".formatted(id, id, zone, plan), 201);
        if (limits != null) {
            admin("PUT", "/admin/v1/tenants/" + id + "/limits", limits, 200);
        }
        JsonNode key = admin("POST", "/admin/v1/tenants/" + id + "/keys", "{\"name\":\"diff\",\"scopes\":[\"inference\"]}", 201);
        return new Tenant(id, zone, key.path("apiKey").asText());
    }

    /** One request of a random kind; returns the HTTP status (a stream cut by the client counts as 200). */
    private static int call(Tenant tenant, Random random) throws Exception {
        int maxTokens = 1 + random.nextInt(MAX_TOKENS);
        String prompt = "hello ".repeat(1 + random.nextInt(12));
        int kind = random.nextInt(12);
        boolean reason = random.nextBoolean();
        String path;
        String body;
        boolean stream = false;
        String keyHeader = "authorization";
        switch (kind) {
            case 0 -> {
                path = "/v1/chat/completions";
                body = "{\"model\":\"fake-chat\",\"max_tokens\":" + maxTokens + (reason ? ",\"reasoning_effort\":\"high\"" : "")
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
            }
            case 1, 2 -> {
                path = "/v1/chat/completions";
                stream = true;
                body = "{\"model\":\"fake-chat\",\"stream\":true,\"max_tokens\":" + maxTokens + (reason ? ",\"reasoning_effort\":\"low\"" : "")
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
            }
            case 3 -> {
                path = "/v1/completions";
                body = "{\"model\":\"fake-chat\",\"max_tokens\":" + maxTokens + ",\"prompt\":\"" + prompt + "\"}";
            }
            case 5, 6 -> { // the Responses API, whole or streamed (issue #20)
                path = "/v1/responses";
                stream = kind == 6;
                body = "{\"model\":\"fake-chat\",\"stream\":" + stream + ",\"max_output_tokens\":" + maxTokens + ",\"instructions\":\"Be brief.\","
                        + (reason ? "\"reasoning\":{\"effort\":\"low\"}," : "") + "\"input\":\"" + prompt + "\"}";
            }
            case 7, 8 -> { // the Anthropic Messages API with Anthropic's key header, whole or streamed (issue #20)
                path = "/v1/messages";
                stream = kind == 8;
                keyHeader = "x-api-key";
                body = "{\"model\":\"fake-chat\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens + ",\"messages\":[{\"role\":\"user\","
                        + "\"content\":[{\"type\":\"text\",\"text\":\"" + prompt + "\"" + (reason ? ",\"cache_control\":{\"type\":\"ephemeral\"}" : "")
                        + "}]}]}";
            }
            case 9 -> { // rerank: 1 to 3 documents (issue #20)
                path = "/v1/rerank";
                body = "{\"model\":\"fake-embed\",\"query\":\"" + prompt + "\",\"documents\":[\"a b\"" + ",\"c d e\"".repeat(random.nextInt(3))
                        + "]}";
            }
            case 10 -> { // score: one text against one or two
                path = "/v1/score";
                body = "{\"model\":\"fake-embed\",\"text_1\":\"" + prompt + "\",\"text_2\":" + (reason ? "[\"a\",\"b c\"]" : "\"a\"") + "}";
            }
            case 11 -> { // a transcription: 1 to 5 s of audio as a multipart upload (ADR 0031)
                return HTTP.send(transcription(tenant, 1 + random.nextInt(5 * 32_000), random), HttpResponse.BodyHandlers.discarding())
                        .statusCode();
            }
            default -> {
                path = "/v1/embeddings";
                body = "{\"model\":\"fake-embed\",\"input\":\"" + prompt + "\"}";
            }
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + path))
                .header(keyHeader, keyHeader.equals("authorization") ? "Bearer " + tenant.apiKey() : tenant.apiKey())
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30))
                .build();
        if (!stream) {
            return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        }
        HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = response.body()) {
            if (response.statusCode() == 200 && kind == 2) {
                in.readNBytes(1 + random.nextInt(200)); // the client goes away mid-stream
            } else {
                in.readAllBytes();
            }
        }
        return response.statusCode();
    }

    /** A transcription of {@code bytes} random bytes (the fake upstream hears 32,000 a second) as the OpenAI SDKs send it. */
    private static HttpRequest transcription(Tenant tenant, int bytes, Random random) {
        var audio = new byte[bytes];
        random.nextBytes(audio);
        byte[] head = ("--diff\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-chat\r\n--diff\r\nContent-Disposition: form-data;"
                + " name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\r\n--diff--\r\n".getBytes(StandardCharsets.UTF_8);
        return HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/audio/transcriptions"))
                .header("authorization", "Bearer " + tenant.apiKey()).header("content-type", "multipart/form-data; boundary=diff")
                .POST(HttpRequest.BodyPublishers.ofByteArrays(List.of(head, audio, tail))).timeout(Duration.ofSeconds(30)).build();
    }

    @Test
    void whatTheGatewayMeteredIsBilledOnceAndTheAuditReproducesEveryInvoice() throws Exception {
        var random = new Random(SEED);
        Instant monthStart = YearMonth.now(ZoneOffset.UTC).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).minus(Duration.ofDays(1));
        for (int p = 0; p < PLANS; p++) {
            admin("PUT", "/admin/v1/plans/gd-" + p, "{\"name\":\"Plan " + p + "\"}", 200);
            priceList("gd-" + p + "-base", "gd-" + p, monthStart, true, random);
        }
        var tenants = new ArrayList<Tenant>();
        var plans = new ArrayList<Integer>();
        for (int t = 0; t < ZONES.size(); t++) {
            int plan = random.nextInt(PLANS - 1); // the last plan is the budget tenant's alone
            plans.add(plan);
            tenants.add(tenant("gd-t" + t, ZONES.get(t), "gd-" + plan, null));
        }
        Tenant budget = tenant("gd-budget", "UTC", "gd-" + (PLANS - 1),
                "{\"spendPerPeriodMicros\":" + BUDGET_MICROS + ",\"spendLimitMode\":\"HARD\"}");
        for (Tenant t : tenants) {
            await().atMost(Duration.ofSeconds(30)).until(() -> call(t, new Random(1)) == 200);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> call(budget, new Random(1)) == 200);

        // While the traffic runs: half the tenants switch plans at a scheduled instant, and plan 0 gets a new list.
        Instant switchAt = Instant.now().plusSeconds(6).truncatedTo(ChronoUnit.MILLIS);
        for (int t = 0; t < tenants.size(); t += 2) {
            admin("PUT", "/admin/v1/tenants/" + tenants.get(t).id() + "/plan",
                    "{\"planId\":\"gd-" + (plans.get(t) + 1) % (PLANS - 1) + "\",\"effectiveFrom\":\"" + switchAt + "\"}", 200, 204);
        }
        priceList("gd-0-mid", "gd-0", Instant.now().plusSeconds(9).truncatedTo(ChronoUnit.SECONDS), false, random);

        var served = new AtomicLong();
        var refusedBudget = new AtomicLong();
        Instant trafficStart = Instant.now();
        long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(4 + BUDGET_CLIENTS);
        var clients = new ArrayList<Future<?>>();
        for (int c = 0; c < 4; c++) {
            var clientRandom = new Random(SEED * 31 + c);
            clients.add(pool.submit(() -> {
                while (System.nanoTime() < until) {
                    if (call(tenants.get(clientRandom.nextInt(tenants.size())), clientRandom) == 200) {
                        served.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        // The budget tenant's clients go on until its limit has refused them (on a slow machine 15 s may not reach it: a CI
        // run on a loaded machine once ended with no refusal at all), for at most BUDGET_DEADLINE.
        var budgetCalls = new AtomicLong();
        long budgetUntil = System.nanoTime() + BUDGET_DEADLINE.toNanos();
        for (int c = 0; c < BUDGET_CLIENTS; c++) {
            var clientRandom = new Random(SEED * 37 + c);
            clients.add(pool.submit(() -> {
                while (System.nanoTime() < until || refusedBudget.get() < BUDGET_CLIENTS && System.nanoTime() < budgetUntil) {
                    budgetCalls.incrementAndGet();
                    if (call(budget, clientRandom) == 429) {
                        refusedBudget.incrementAndGet();
                        Thread.sleep(50);
                    }
                }
                return null;
            }));
        }
        for (Future<?> client : clients) {
            client.get();
        }
        Instant trafficEnd = Instant.now();
        pool.shutdown();
        // Every billable event on usage.v1 is billed, once (the last ones may still be on their way to the topic: read it again).
        var server = PostgresDatabase.Server.fromEnvironment();
        String billingDb = DATABASE + "_billing";
        long[] billable = {0};
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            billable[0] = BilledUsage.billable(stack.kafkaBootstrapServers()).size();
            return BilledUsage.rows(server, billingDb) == billable[0];
        });

        // Every unit the traffic uses was metered and billed: reasoning, cache writes, documents, a request per served call, audio.
        try (var connection = DriverManager.getConnection(server.jdbcUrl(billingDb), server.user(), server.password());
             var units = connection.createStatement().executeQuery("select count(*) filter (where reasoning > 0), count(*) filter (where"
                     + " cache_write_prompt > 0), count(*) filter (where documents > 0), count(*) filter (where requests > 0), count(*) filter"
                     + " (where audio_seconds > 0) from billed_usage")) {
            units.next();
            System.out.printf("[gateway-differential] billed events with reasoning %d, cache writes %d, documents %d, a request fee %d,"
                    + " audio %d%n", units.getLong(1), units.getLong(2), units.getLong(3), units.getLong(4), units.getLong(5));
            for (int column = 1; column <= 5; column++) {
                assertThat(units.getLong(column)).as("billed events with unit %d", column).isPositive();
            }
        }

        // A backfill over what is billed already: the odd tenants were on the other plan since 5 s into the traffic.
        Map<String, String> pricedBefore = BilledUsage.priceLists(server, billingDb);
        Instant backfillFrom = trafficStart.plusSeconds(5).truncatedTo(ChronoUnit.MILLIS);
        for (int t = 1; t < tenants.size(); t += 2) {
            admin("PUT", "/admin/v1/tenants/" + tenants.get(t).id() + "/plan",
                    "{\"planId\":\"gd-" + (plans.get(t) + 1) % (PLANS - 1) + "\",\"effectiveFrom\":\"" + backfillFrom + "\"}", 200, 204);
        }
        ConsumerGroups.awaitConsumed(stack.kafkaBootstrapServers(), "tollgate-invoice-writer-repricer", Topics.LEDGER_EVENTS.name(),
                Duration.ofMinutes(2));
        Thread.sleep(BackfillRepricer.SECOND_PASS.plusSeconds(2).toMillis()); // the re-pricer's second pass
        Map<String, String> pricedAfter = BilledUsage.priceLists(server, billingDb);
        long repriced = pricedAfter.entrySet().stream().filter(e -> !Objects.equals(e.getValue(), pricedBefore.get(e.getKey()))).count();
        System.out.printf("[gateway-differential] plans backfilled for %d tenants: %d billed events priced again%n", tenants.size() / 2,
                repriced);
        assertThat(repriced).as("events priced again after the backfill").isPositive();
        System.out.printf("[gateway-differential] seed %d: %d answers, %d billable usage events billed, budget tenant refused %d of %d"
                + " calls in %d s%n", SEED, served.get(), billable[0], refusedBudget.get(), budgetCalls.get(),
                Duration.between(trafficStart, trafficEnd).toSeconds());

        // The audit replays the same log and must reproduce every invoice of every period a tenant's zone is in now.
        var periods = new TreeSet<String>();
        ZONES.forEach(zone -> periods.add(YearMonth.now(ZoneId.of(zone)).toString()));
        for (String period : periods) {
            var out = new ByteArrayOutputStream();
            int code = AuditRun.run(out, "replay", "--period", period, "--grace", "PT2H", "--bootstrap-servers", stack.kafkaBootstrapServers(),
                    "--database-url", server.jdbcUrl(billingDb), "--database-user", server.user(), "--database-password", server.password());
            String report = out.toString(StandardCharsets.UTF_8);
            System.out.printf("[gateway-differential] audit replay %s: exit %d%n%s%n", period, code,
                    report.lines().filter(l -> l.startsWith("MISMATCH") || l.startsWith("UNDECODABLE") || l.startsWith("VERDICT")
                            || l.contains("verdict")).limit(20).collect(Collectors.joining("\n")));
            assertThat(code).as("audit replay of %s (seed %d):%n%s", period, SEED, report).isZero();
        }

        // The hard spend limit held, to ADR 0009's bound for one replica: a request is admitted only if its reservation
        // (prompt estimate + max_tokens at the gateway's price) fits what is left, and a stream is cut after the chunk that
        // crosses it; what may pass is, per client in flight, the prompt estimate's error (at most the whole prompt, under
        // 40 tokens here) and one chunk, at the dearest price. This holds only if the gateway prices as billing does: with
        // its rates divided by 4 on purpose two runs billed 21,639 and 25,297 micros.
        long spent = spend(server, billingDb, budget.id());
        // Documents, audio seconds and the request fee are known only once answered: per client in flight, 3 documents,
        // 5 seconds and 1 request more.
        long bound = (long) Math.ceil(BUDGET_CLIENTS * (40 + 1 + 3 + 5 + 1) * (double) MAX_PRICE / 1_000_000);
        System.out.printf("[gateway-differential] hard spend limit %d micros: billed %d micros, bound %d over the limit%n", BUDGET_MICROS,
                spent, bound);
        assertThat(refusedBudget.get()).as("the budget tenant reached its limit").isPositive();
        assertThat(spent).isLessThanOrEqualTo(BUDGET_MICROS + bound).isGreaterThan(BUDGET_MICROS * 8 / 10);
    }


    /**
     * What the tenant's billed events cost in its dearest billing period (the budget is per period: a run across
     * midnight of the 1st starts a new one), exact per event and rounded up once at the end (micro-units).
     */
    private static long spend(PostgresDatabase.Server server, String database, String tenantId) throws Exception {
        try (var connection = DriverManager.getConnection(server.jdbcUrl(database), server.user(), server.password());
             // Cache writes and reasoning at their own price where the list has one, else in input and output (ADR 0030).
             var statement = connection.prepareStatement("select coalesce(max(spent), 0) from (select sum(("
                     + "(uncached_prompt - case when cache_write_input_micros is null then 0 else cache_write_prompt end) * input_micros"
                     + " + cached_prompt * cached_input_micros + cache_write_prompt * coalesce(cache_write_input_micros, 0)"
                     + " + (completion - case when reasoning_micros is null then 0 else reasoning end) * output_micros"
                     + " + reasoning * coalesce(reasoning_micros, 0) + audio_seconds * coalesce(audio_second_micros, 0)"
                     + " + documents * coalesce(document_micros, 0) + requests * coalesce(request_micros, 0)) / 1000000.0) as spent"
                     + " from billed_usage where tenant_id = ? group by invoice_period) periods")) {
            statement.setString(1, tenantId);
            try (var rs = statement.executeQuery()) {
                rs.next();
                return rs.getBigDecimal(1).setScale(0, RoundingMode.CEILING).longValueExact();
            }
        }
    }
}
