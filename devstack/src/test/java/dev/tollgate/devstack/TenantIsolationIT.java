package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole platform in one JVM, two tenants: everything tenant A holds (its API key, its
 * tenant-admin token) against every resource of tenant B on the admin, billing and inference APIs
 * gets 401, 403 or 404 and never B's data, and changes nothing of B's. Then every secret the run
 * handled (API keys, JWTs, the JWT signing secret, the webhook master key, the upstream credential)
 * is looked for in everything the run wrote: every record on every topic (values and headers), the
 * services' metrics, every answer the test received and the log file (JSON lines).
 */
class TenantIsolationIT {
    private static final String DATABASE = "tg_isolation_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String UPSTREAM_CREDENTIAL = "sk-upstream-" + UUID.randomUUID();
    private static final Path LOG_FILE = Path.of("target", "devstack-tests.log");

    /** Every answer this test got, for the secret scan. */
    private final List<String> answers = new ArrayList<>();

    @AfterAll
    static void dropDatabases() throws Exception {
        var server = PostgresDatabase.Server.fromEnvironment();
        try (var connection = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var statement = connection.createStatement()) {
            for (String database : List.of(DATABASE, DATABASE + "_billing")) {
                statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    private HttpResponse<String> call(String method, String url, String token, String json) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        if (json != null) {
            request.header("content-type", "application/json");
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        answers.add(response.headers().map() + "\n" + response.body());
        return response;
    }

    private String chat(DevStack stack, String apiKey) throws Exception {
        HttpResponse<String> answer = call("POST", stack.gatewayUrl() + "/v1/chat/completions", apiKey,
                "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return answer.headers().firstValue("x-request-id").orElseThrow();
    }

    @Test
    void tenantAReachesNothingOfTenantBAndNoSecretIsWrittenAnywhere(@TempDir Path dataDir) throws Exception {
        try (FakeUpstream gpu = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT)) {
            Path upstreams = dataDir.resolve("upstreams.yaml");
            Files.writeString(upstreams, "pools: {gpu: {credential: \"" + UPSTREAM_CREDENTIAL + "\", endpoints: [{url: \""
                    + gpu.baseUrl() + "\"}]}}\nmodels: {fake-chat: {pool: gpu}}\n");
            Map<String, String> options = DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "ledger-port", "0",
                    "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE, "billing-database", DATABASE + "_billing",
                    "upstreams", upstreams.toString());
            try (DevStack stack = DevStack.start(options)) {
                DevSecrets secrets = DevSecrets.loadOrCreate(dataDir);
                String admin = stack.adminToken();
                String keyA = stack.apiKey();
                String adminOfA = stack.token("demo-admin", List.of("tenant-admin"), "demo");

                // Tenant B, its key, its usage and its draft invoice.
                assertThat(call("POST", stack.adminUrl() + "/admin/v1/tenants", admin, """
                        {"tenantId":"globex","name":"Globex Corporation","billingTimeZone":"UTC","currency":"USD","planId":"dev"}""")
                        .statusCode()).isEqualTo(201);
                JsonNode issued = EventCodec.mapper().readTree(call("POST", stack.adminUrl() + "/admin/v1/tenants/globex/keys", admin,
                        "{\"name\":\"globex-key\",\"scopes\":[\"inference\"]}").body());
                String keyB = issued.path("apiKey").asText();
                String keyIdB = issued.path("keyId").asText();
                await().atMost(Duration.ofSeconds(30)).until(() -> call("GET", stack.gatewayUrl() + "/v1/models", keyB, null).statusCode() == 200);
                String requestB = chat(stack, keyB);
                String requestA = chat(stack, keyA);
                String invoiceB = await().atMost(Duration.ofSeconds(60)).until(() -> {
                    JsonNode invoices = EventCodec.mapper().readTree(call("GET", stack.billingUrl() + "/billing/v1/tenants/globex/invoices",
                            admin, null).body());
                    return invoices.isArray() && !invoices.isEmpty() ? invoices.get(0).path("invoiceId").asText() : null;
                }, id -> id != null && !id.isEmpty());
                String beforeB = call("GET", stack.adminUrl() + "/admin/v1/tenants/globex", admin, null).body();
                String keysBefore = call("GET", stack.adminUrl() + "/admin/v1/tenants/globex/keys", admin, null).body();

                // Every resource of B, with everything A holds.
                Map<String, String[]> resourcesOfB = new LinkedHashMap<>();
                String a = stack.adminUrl();
                String b = stack.billingUrl();
                resourcesOfB.put("GET tenant", new String[] {"GET", a + "/admin/v1/tenants/globex", null});
                resourcesOfB.put("suspend", new String[] {"POST", a + "/admin/v1/tenants/globex:suspend", "{}"});
                resourcesOfB.put("reinstate", new String[] {"POST", a + "/admin/v1/tenants/globex:reinstate", "{}"});
                resourcesOfB.put("limits", new String[] {"PUT", a + "/admin/v1/tenants/globex/limits", "{\"requestsPerMinute\":1}"});
                resourcesOfB.put("webhook", new String[] {"PUT", a + "/admin/v1/tenants/globex/webhook", "{\"url\":\"https://evil.example/hook\"}"});
                resourcesOfB.put("plan", new String[] {"PUT", a + "/admin/v1/tenants/globex/plan", "{\"planId\":\"dev\"}"});
                resourcesOfB.put("events", new String[] {"GET", a + "/admin/v1/tenants/globex/events", null});
                resourcesOfB.put("issue key", new String[] {"POST", a + "/admin/v1/tenants/globex/keys", "{\"name\":\"mine now\",\"scopes\":[\"inference\"]}"});
                resourcesOfB.put("list keys", new String[] {"GET", a + "/admin/v1/tenants/globex/keys", null});
                resourcesOfB.put("GET key", new String[] {"GET", a + "/admin/v1/keys/" + keyIdB, null});
                resourcesOfB.put("rotate key", new String[] {"POST", a + "/admin/v1/keys/" + keyIdB + ":rotate", "{}"});
                resourcesOfB.put("revoke key", new String[] {"POST", a + "/admin/v1/keys/" + keyIdB + ":revoke", "{}"});
                resourcesOfB.put("key limits", new String[] {"PUT", a + "/admin/v1/keys/" + keyIdB + "/limits", "{\"requestsPerMinute\":1}"});
                resourcesOfB.put("usage", new String[] {"GET", b + "/billing/v1/tenants/globex/usage", null});
                resourcesOfB.put("invoices", new String[] {"GET", b + "/billing/v1/tenants/globex/invoices", null});
                resourcesOfB.put("invoice", new String[] {"GET", b + "/billing/v1/invoices/" + invoiceB, null});
                resourcesOfB.put("sync invoice", new String[] {"POST", b + "/billing/v1/invoices/" + invoiceB + ":sync-stripe", "{}"});
                Map<String, String> holdings = Map.of("tenant-admin token of A", adminOfA, "API key of A", keyA,
                        "no credentials", "", "B's key id with A's secret", "tg_" + keyIdB + "_" + keyA.substring(keyA.length() - 43));
                List<String> leaks = new ArrayList<>();
                for (var holding : holdings.entrySet()) {
                    for (var resource : resourcesOfB.entrySet()) {
                        String[] r = resource.getValue();
                        HttpResponse<String> answer = call(r[0], r[1], holding.getValue().isEmpty() ? null : holding.getValue(), r[2]);
                        if (!List.of(401, 403, 404).contains(answer.statusCode()) || answer.body().contains("Globex Corporation")
                                || answer.body().contains(requestB)) {
                            leaks.add(holding.getKey() + " -> " + resource.getKey() + ": " + answer.statusCode() + " " + answer.body());
                        }
                    }
                }
                assertThat(leaks).as("tenant A reached tenant B").isEmpty();
                // The list of tenants is not for tenant admins at all; A's own tenant is.
                HttpResponse<String> tenantsSeenByA = call("GET", a + "/admin/v1/tenants", adminOfA, null);
                assertThat(tenantsSeenByA.statusCode()).isEqualTo(403);
                assertThat(tenantsSeenByA.body()).doesNotContain("globex");
                assertThat(call("GET", a + "/admin/v1/tenants/demo", adminOfA, null).statusCode()).isEqualTo(200);
                assertThat(call("GET", b + "/billing/v1/tenants/demo/invoices", adminOfA, null).statusCode()).isEqualTo(200);
                // The gateway bills each key to its own tenant only: A's request is on A, B's on B.
                var usage = TopicReader.readAll(stack.kafkaBootstrapServers(), Topics.USAGE.name());
                assertThat(usage).filteredOn(r -> requestA.equals(EventCodec.decode(r.value()).subject()))
                        .isNotEmpty().allSatisfy(r -> assertThat(r.key()).isEqualTo("demo"));
                assertThat(usage).filteredOn(r -> requestB.equals(EventCodec.decode(r.value()).subject()))
                        .isNotEmpty().allSatisfy(r -> assertThat(r.key()).isEqualTo("globex"));
                // Nothing of B changed: same tenant, same keys, B's key still works.
                assertThat(call("GET", a + "/admin/v1/tenants/globex", admin, null).body()).isEqualTo(beforeB);
                assertThat(call("GET", a + "/admin/v1/tenants/globex/keys", admin, null).body()).isEqualTo(keysBefore);
                chat(stack, keyB);
                assertThat(gpu.requests()).allSatisfy(r -> assertThat(r.headers().get("authorization"))
                        .as("the pool's credential, never a tenant's key").containsExactly("Bearer " + UPSTREAM_CREDENTIAL));

                // The secret scan over everything the run wrote.
                var written = new StringBuilder();
                for (var topic : Topics.all()) {
                    for (var record : TopicReader.readAll(stack.kafkaBootstrapServers(), topic.name())) {
                        written.append(topic.name()).append(' ').append(record.key()).append(' ')
                                .append(record.value() == null ? "" : new String(record.value(), StandardCharsets.UTF_8)).append('\n');
                        for (Header header : record.headers()) {
                            written.append(header.key()).append('=').append(new String(header.value(), StandardCharsets.UTF_8)).append('\n');
                        }
                    }
                }
                for (String url : List.of(stack.gatewayUrl(), stack.adminUrl(), stack.billingUrl())) {
                    written.append(call("GET", url + "/metrics", null, null).body());
                }
                answers.stream().filter(answer -> !answer.contains("\"apiKey\"")).forEach(written::append); // issuing shows a key once
                Thread.sleep(500); // the asynchronous log appender
                assertThat(LOG_FILE).exists();
                String logs = Files.readString(LOG_FILE);
                assertThat(logs).as("JSON access log lines with correlation ids").contains("\"logger_name\":\"dev.tollgate.gateway.access\"")
                        .contains("\"request_id\":\"" + requestB + "\"").contains("\"tenant_id\":\"globex\"").contains("\"trace_id\":");
                written.append(logs);
                Map<String, String> secretsOfTheRun = new LinkedHashMap<>();
                secretsOfTheRun.put("API key of A", keyA);
                secretsOfTheRun.put("secret of A's key", ApiKeys.parse(keyA).orElseThrow().secret());
                secretsOfTheRun.put("API key of B", keyB);
                secretsOfTheRun.put("secret of B's key", ApiKeys.parse(keyB).orElseThrow().secret());
                secretsOfTheRun.put("platform admin JWT", admin);
                secretsOfTheRun.put("tenant admin JWT", adminOfA);
                secretsOfTheRun.put("console client secret", secrets.consoleClientSecret());
                secretsOfTheRun.put("webhook master key", secrets.webhookMasterKey());
                secretsOfTheRun.put("upstream credential", UPSTREAM_CREDENTIAL);
                String everything = written.toString();
                // The scan finds a secret where one is: the answer that issued B's key holds it (and is left out above).
                assertThat(String.join("\n", answers)).contains(keyB);
                assertThat(everything.length()).as("the scan read something").isGreaterThan(10_000);
                secretsOfTheRun.forEach((what, secret) -> assertThat(everything).as(what + " written somewhere").doesNotContain(secret));
            }
        }
    }
}
