package dev.tollgate.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.json.EventCodec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Seeds the local platform through the ledger's own admin API, idempotently: a "dev" plan, this
 * month's price list for the served models (an explicit backfill from the 1st), the tenant "demo"
 * and an API key, which is kept in the credentials file and reused while it stays active.
 */
final class DemoSeed {
    static final String TENANT = "demo";
    static final String PLAN = "dev";

    private static final ObjectMapper JSON = EventCodec.mapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String adminUrl;
    private final String token;

    DemoSeed(String adminUrl, String token) {
        this.adminUrl = adminUrl;
        this.token = token;
    }

    /** A platform-admin token for the dev stack, valid 30 days. */
    static String adminToken(DevIdentityProvider idp) {
        return idp.mint("dev-admin", List.of("platform-admin"), null, Duration.ofDays(30));
    }

    /** Seeds what is missing; returns the tenant's API key (reused from {@code previousKey} if still active). */
    ApiKey seed(ApiKey previousKey, List<String> models) {
        expect(call("PUT", "/admin/v1/plans/" + PLAN, """
                {"name":"Developer","defaultLimits":{"requestsPerMinute":600,"tokensPerMinute":200000,
                 "tokensPerDay":5000000,"spendPerPeriodMicros":50000000,"spendLimitMode":"SOFT","maxConcurrentRequests":32}}"""), 200);
        YearMonth month = YearMonth.now(ZoneOffset.UTC);
        // Dev prices per million tokens: 0.15 input, 0.075 cached input, 0.1875 written to the cache, 0.60 output, 0.90
        // reasoning (USD); per million of the other units (ADR 0030): 100 an audio second (0.006 a minute), 2000 a
        // document (0.002 each), 10 a request (0.00001 each).
        String prices = models.stream().map(model -> "{\"model\":\"" + model + "\",\"inputMicrosPerMillionTokens\":150000,"
                + "\"cachedInputMicrosPerMillionTokens\":75000,\"outputMicrosPerMillionTokens\":600000,"
                + "\"cacheWriteInputMicrosPerMillionTokens\":187500,\"reasoningMicrosPerMillionTokens\":900000,"
                + "\"audioMicrosPerMillionSeconds\":100000000,\"documentMicrosPerMillionDocuments\":2000000000,"
                + "\"requestMicrosPerMillionRequests\":10000000}")
                .collect(Collectors.joining(","));
        expect(call("POST", "/admin/v1/price-lists", """
                {"priceListId":"pl-dev-%s","planId":"dev","currency":"USD","effectiveFrom":"%s","backfill":true,"prices":[%s]}"""
                .formatted(month, month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC), prices)), 201, 409);
        expect(call("POST", "/admin/v1/tenants", """
                {"tenantId":"demo","name":"Demo tenant","billingTimeZone":"UTC","currency":"USD","planId":"dev"}"""), 201, 409);
        if (previousKey != null && active(previousKey.keyId())) {
            return previousKey;
        }
        JsonNode issued = expect(call("POST", "/admin/v1/tenants/" + TENANT + "/keys", """
                {"name":"demo-key","scopes":["inference"]}"""), 201);
        return new ApiKey(issued.path("keyId").asText(), issued.path("apiKey").asText());
    }

    /** The demo key: its id and the full bearer token. */
    record ApiKey(String keyId, String token) {
        @Override
        public String toString() {
            return "ApiKey[" + keyId + "]";
        }
    }

    private boolean active(String keyId) {
        // The read model may trail the previous run's last command by a moment.
        for (int attempt = 0; attempt < 20; attempt++) {
            HttpResponse<String> key = call("GET", "/admin/v1/keys/" + keyId, null);
            if (key.statusCode() == 200) {
                return "ACTIVE".equals(read(key.body()).path("status").asText());
            }
            sleep();
        }
        return false;
    }

    private HttpResponse<String> call(String method, String path, String json) {
        var request = HttpRequest.newBuilder(URI.create(adminUrl + path)).header("authorization", "Bearer " + token)
                .header("content-type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode expect(HttpResponse<String> response, int... statuses) {
        for (int status : statuses) {
            if (response.statusCode() == status) {
                return read(response.body());
            }
        }
        throw new IllegalStateException("seeding the demo tenant failed: " + response.request().method() + " "
                + response.request().uri() + " answered " + response.statusCode() + " " + response.body());
    }

    private static JsonNode read(String body) {
        try {
            return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(250);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads the key of an earlier run from the credentials file, if any. */
    static ApiKey previousKey(Path credentials) {
        if (!Files.exists(credentials)) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(credentials.toFile());
            String token = node.path("apiKey").asText(null);
            String keyId = node.path("keyId").asText(null);
            return token == null || keyId == null ? null : new ApiKey(keyId, token);
        } catch (IOException e) {
            return null;
        }
    }

    /** Writes what a developer needs to call the platform (mode 600: it holds a key and a token). */
    static void writeCredentials(Path file, ObjectNode credentials) {
        try {
            Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(credentials));
            DevSecrets.restrict(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode newObject() {
        return JSON.createObjectNode();
    }
}
