package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DevStackIT {
    /** Never the developer's own dev database. */
    private static final String DATABASE = "tg_devstack_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Every service of the stack exports its spans into the shared in-memory exporter (see MemorySpanExporterProvider). */
    @BeforeAll
    static void traceIntoMemory() {
        System.setProperty("otel.traces.exporter", MemorySpanExporterProvider.NAME);
        System.setProperty("otel.bsp.schedule.delay", "50");
    }

    @AfterAll
    static void dropDatabase() throws Exception {
        System.clearProperty("otel.traces.exporter");
        System.clearProperty("otel.bsp.schedule.delay");
        var server = PostgresDatabase.Server.fromEnvironment();
        try (var connection = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var statement = connection.createStatement()) {
            for (String database : List.of(DATABASE, DATABASE + "_billing", DATABASE + "_real", DATABASE + "_real_billing")) {
                statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    private static HttpResponse<String> get(String url, String token) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theStackRunsKafkaTheUpstreamAndTheSeededLedgerAndReusesItsDataOnRestart(@TempDir Path dataDir) throws Exception {
        Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0",
                "ledger-port", "0", "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE, "billing-database",
                DATABASE + "_billing", "ttft-ms", "0", "inter-token-ms", "0");
        String firstKey;
        try (DevStack stack = DevStack.start(options)) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
                assertThat(admin.listTopics().names().get()).containsAll(Topics.all().stream().map(t -> t.name()).toList());
            }
            assertThat(get(stack.upstreamUrl() + "/v1/models", null).body()).contains("fake-chat");
            assertThat(get(stack.adminUrl() + "/admin/v1/tenants", stack.adminToken()).statusCode()).isEqualTo(200);

            JsonNode credentials = EventCodec.mapper().readTree(dataDir.resolve("dev-credentials.json").toFile());
            assertThat(credentials.path("adminUrl").asText()).isEqualTo(stack.adminUrl());
            assertThat(credentials.path("tenantId").asText()).isEqualTo("demo");
            firstKey = credentials.path("apiKey").asText();
            assertThat(firstKey).isEqualTo(stack.apiKey());
            var presented = ApiKeys.parse(firstKey).orElseThrow();
            var states = TopicReader.awaitRecord(stack.kafkaBootstrapServers(), Topics.KEYS_STATE.name(),
                    r -> r.key().equals(presented.keyId()), Duration.ofSeconds(30));
            KeyState state = EventCodec.decodeState(states.stream().filter(r -> r.key().equals(presented.keyId()))
                    .reduce((a, b) -> b).orElseThrow().value(), KeyState.class);
            assertThat(state.tenantId()).isEqualTo("demo");
            assertThat(ApiKeys.verify(presented, state.secrets().getFirst().hash())).as("the written key is the live key").isTrue();
            assertThat(Files.getPosixFilePermissions(dataDir.resolve("dev-credentials.json")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
            assertThat(stack.banner()).contains(stack.adminUrl()).contains(stack.gatewayUrl()).contains("usage.v1");
            assertThat(credentials.path("gatewayUrl").asText()).isEqualTo(stack.gatewayUrl() + "/v1");

            // The demo key works end to end: through the gateway to the fake upstream, metered on usage.v1.
            HttpResponse<String> completion = HTTP.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + firstKey).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(completion.statusCode()).as(completion.body()).isEqualTo(200);
            var usage = TopicReader.awaitRecord(stack.kafkaBootstrapServers(), Topics.USAGE.name(),
                    r -> EventCodec.decode(r.value()).type().endsWith("usage.request.completed.v1"), Duration.ofSeconds(30));
            assertThat(usage).extracting(r -> r.key()).contains("demo");
            var quota = TopicReader.awaitRecord(stack.kafkaBootstrapServers(), Topics.QUOTA_STATE.name(),
                    r -> r.key().equals("demo/*/BILLING_PERIOD"), Duration.ofSeconds(60));
            var period = EventCodec.decodeState(quota.stream().filter(r -> r.key().equals("demo/*/BILLING_PERIOD"))
                    .reduce((a, b) -> b).orElseThrow().value(), QuotaState.class);
            assertThat(period.usedTokens()).as("the projector counted the completion").isPositive();
            assertThat(period.usedSpendMicros()).as("priced with the seeded price list").isPositive();

            // ... and shows in the billing API: live usage and the open period's draft invoice.
            assertThat(credentials.path("billingUrl").asText()).isEqualTo(stack.billingUrl());
            Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                var report = EventCodec.mapper().readTree(get(stack.billingUrl() + "/billing/v1/tenants/demo/usage", stack.adminToken()).body());
                assertThat(report.path("totals").path("outputTokens").asLong()).isPositive();
                var invoices = EventCodec.mapper().readTree(get(stack.billingUrl() + "/billing/v1/tenants/demo/invoices",
                        stack.adminToken()).body());
                assertThat(invoices.get(0).path("status").asText()).isEqualTo("DRAFT");
                assertThat(invoices.get(0).path("totalMicros").asLong()).isPositive();
            });

            // One (streamed) request, one trace: caller -> gateway -> model server and usage.v1 -> projector -> invoice writer.
            assertOneConnectedTrace(stack, firstKey);
            // Every metric the Grafana dashboards and the Prometheus alert rules use is exported by the running services.
            MonitoringContract.assertEveryMetricIsExported(Map.of(
                    "gateway", scrape(stack.gatewayUrl() + "/metrics"),
                    "ledger", scrape(stack.adminUrl() + "/metrics"),
                    "billing", scrape(stack.billingUrl() + "/metrics")));
        }

        try (DevStack again = DevStack.start(options)) {
            assertThat(again.apiKey()).as("an active key is reused across restarts").isEqualTo(firstKey);
            HttpResponse<String> keys = get(again.adminUrl() + "/admin/v1/tenants/demo/keys", again.adminToken());
            assertThat(EventCodec.mapper().readTree(keys.body())).hasSize(1);
        }
    }

    private static String scrape(String url) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).version(HttpClient.Version.HTTP_1_1).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        // Kept for whoever edits the dashboards: what each service really exports.
        Path dump = Path.of("target", "scrapes", URI.create(url).getPort() + ".prom");
        Files.createDirectories(dump.getParent());
        Files.writeString(dump, url + "\n" + response.body());
        return response.body();
    }

    private static void assertOneConnectedTrace(DevStack stack, String apiKey) throws Exception {
        String traceId = HexFormat.of().formatHex(SecureRandom.getSeed(16));
        String callerSpanId = "00f067aa0ba902b7";
        HttpResponse<String> completion = HTTP.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/chat/completions"))
                .header("authorization", "Bearer " + apiKey).header("content-type", "application/json")
                .header("traceparent", "00-" + traceId + "-" + callerSpanId + "-01")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"trace me\"}],\"stream\":true}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(completion.statusCode()).as(completion.body()).isEqualTo(200);
        String requestId = completion.headers().firstValue("x-request-id").orElseThrow();

        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> spansOf(traceId).stream()
                .anyMatch(span -> span.getName().equals("process " + Topics.USAGE_BILLED.name())));
        List<SpanData> trace = spansOf(traceId);
        SpanData server = only(trace, "POST /v1/chat/completions", SpanKind.SERVER);
        assertThat(server.getParentSpanId()).as("the caller's span is the parent").isEqualTo(callerSpanId);
        assertThat(server.getResource().getAttribute(AttributeKey.stringKey("service.name"))).isEqualTo("tollgate-gateway");
        assertThat(server.getAttributes().get(AttributeKey.stringKey("tollgate.request.id"))).isEqualTo(requestId);

        SpanData upstream = only(trace, "chat fake-chat", SpanKind.CLIENT);
        assertThat(upstream.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(upstream.getAttributes().get(AttributeKey.longKey("gen_ai.usage.output_tokens"))).isPositive();
        // The model server was called with the upstream span as its parent (W3C traceparent).
        var seen = EventCodec.mapper().readTree(get(stack.upstreamUrl() + "/_fake/requests", null).body());
        assertThat(seen.get(seen.size() - 1).path("headers").path("traceparent").get(0).asText())
                .startsWith("00-" + traceId + "-" + upstream.getSpanId() + "-");

        List<SpanData> created = trace.stream().filter(span -> span.getName().equals("create " + Topics.USAGE.name())).toList();
        assertThat(created).as("accepted and completed events").hasSizeGreaterThanOrEqualTo(2)
                .allSatisfy(span -> assertThat(span.getParentSpanId()).isEqualTo(server.getSpanId()));
        // Every billable event (streamed tokens and the terminal event) is billed in a span of the billing service, a child of
        // its event's producer span, and written to its invoice in a child of that.
        List<SpanData> processed = trace.stream().filter(span -> span.getName().equals("process " + Topics.USAGE.name())).toList();
        assertThat(processed).isNotEmpty().allSatisfy(span -> {
            assertThat(span.getKind()).isEqualTo(SpanKind.CONSUMER);
            assertThat(span.getResource().getAttribute(AttributeKey.stringKey("service.name"))).isEqualTo("tollgate-billing");
            assertThat(created).extracting(SpanData::getSpanId).contains(span.getParentSpanId());
        });
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> spansOf(traceId).stream()
                .filter(span -> span.getName().equals("process " + Topics.USAGE_BILLED.name())).count() == processed.size());
        List<SpanData> written = spansOf(traceId).stream().filter(span -> span.getName().equals("process " + Topics.USAGE_BILLED.name()))
                .toList();
        assertThat(written).allSatisfy(span -> {
            assertThat(processed).extracting(SpanData::getSpanId).contains(span.getParentSpanId());
            assertThat(span.getAttributes().get(AttributeKey.stringKey("tollgate.invoice.id"))).startsWith("inv_");
        });

        // The completed event carries the same context in its record header and in its CloudEvents traceparent.
        var records = TopicReader.awaitRecord(stack.kafkaBootstrapServers(), Topics.USAGE.name(),
                r -> requestId.equals(EventCodec.decode(r.value()).subject()) && EventCodec.decode(r.value()).type().endsWith("completed.v1"),
                Duration.ofSeconds(30));
        var record = records.stream().filter(r -> requestId.equals(EventCodec.decode(r.value()).subject())
                && EventCodec.decode(r.value()).type().endsWith("completed.v1")).findFirst().orElseThrow();
        String header = new String(record.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
        assertThat(EventCodec.decode(record.value()).traceparent()).isEqualTo(header);
        assertThat(header).startsWith("00-" + traceId + "-");
        assertThat(created).extracting(SpanData::getSpanId).contains(header.split("-")[2]);
        assertThat(processed).extracting(SpanData::getParentSpanId).contains(header.split("-")[2]);
    }

    private static List<SpanData> spansOf(String traceId) {
        return MemorySpanExporterProvider.SPANS.getFinishedSpanItems().stream().filter(span -> span.getTraceId().equals(traceId)).toList();
    }

    private static SpanData only(List<SpanData> spans, String name, SpanKind kind) {
        List<SpanData> matching = spans.stream().filter(span -> span.getName().equals(name) && span.getKind() == kind).toList();
        assertThat(matching).as(name + " among " + spans.stream().map(SpanData::getName).toList()).hasSize(1);
        return matching.getFirst();
    }

    @Test
    void withoutAReachablePostgresTheStackRunsOnAnEmbeddedOne(@TempDir Path dataDir) throws Exception {
        int closedPort;
        try (var socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0",
                "ledger-port", "0", "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "pg-port", Integer.toString(closedPort));

        try (DevStack stack = DevStack.start(options)) {
            assertThat(stack.embeddedPostgres()).isTrue();
            assertThat(get(stack.adminUrl() + "/admin/v1/tenants/demo", stack.adminToken()).statusCode()).isIn(200, 404);
            assertThat(stack.apiKey()).startsWith("tg_");
            assertThat(Files.isDirectory(dataDir.resolve("postgres").resolve("data"))).isTrue();
        }
        assertThatThrownBy(() -> DevStack.start(DevOptions.of("data-dir", dataDir.resolve("never").toString(), "kafka-port", "0",
                "upstream-port", "0", "ledger-port", "0", "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "pg-port", Integer.toString(closedPort),
                "embedded-postgres", "never"))).hasMessageContaining("not reachable");
    }

    @Test
    void realUpstreamsFromAFileReplaceTheFakeOne(@TempDir Path dataDir) throws Exception {
        try (var gpu = FakeUpstream.start(0, List.of("llama-real"),
                FakeBehaviour.DEFAULT)) {
            Path file = dataDir.resolve("upstreams.yaml");
            Files.writeString(file, "pools: {gpu: {endpoints: [{url: \"" + gpu.baseUrl() + "\"}]}}\nmodels: {llama-real: {pool: gpu}}\n");
            Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0",
                    "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE + "_real", "billing-database",
                    DATABASE + "_real_billing", "upstreams", file.toString());
            try (DevStack stack = DevStack.start(options)) {
                assertThat(stack.upstreamUrl()).as("no fake upstream").isNull();
                HttpResponse<String> completion = HTTP.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/chat/completions"))
                        .header("authorization", "Bearer " + stack.apiKey()).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"llama-real\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(completion.statusCode()).as(completion.body()).isEqualTo(200);
                assertThat(gpu.requests()).hasSize(1);
            }
        } finally {
            var server = PostgresDatabase.Server.fromEnvironment();
            try (var connection = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
                 var statement = connection.createStatement()) {
                statement.execute("DROP DATABASE IF EXISTS " + DATABASE + "_real WITH (FORCE)");
            }
        }
    }

    @Test
    void aBadOptionFailsFastNamingIt() {
        assertThatThrownBy(() -> DevStack.start(Map.of("kafka-port", "ninety")))
                .hasMessageContaining("--kafka-port");
        assertThatThrownBy(() -> DevStack.parse(new String[] {"--kafka-port"}))
                .hasMessageContaining("usage");
    }
}
