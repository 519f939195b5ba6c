package dev.tollgate.devstack;

import dev.tollgate.schemas.json.EventCodec;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The dev stack's admin API as the quota tests use it: tenants with limits and a key. */
final class StackAdmin {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private StackAdmin() {}

    static HttpResponse<String> admin(DevStack stack, String method, String path, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(stack.adminUrl() + path)).header("authorization", "Bearer " + stack.adminToken())
                .header("content-type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Creates {@code tenant} on the dev plan with {@code limits} (JSON) and returns a new inference key of it. */
    static String tenantWithKey(DevStack stack, String tenant, String limits) throws Exception {
        assertThat(admin(stack, "POST", "/admin/v1/tenants", """
                {"tenantId":"%s","name":"%s","billingTimeZone":"UTC","currency":"USD","planId":"dev"}""".formatted(tenant, tenant))
                .statusCode()).isEqualTo(201);
        assertThat(admin(stack, "PUT", "/admin/v1/tenants/" + tenant + "/limits", limits).statusCode()).isEqualTo(200);
        HttpResponse<String> key = admin(stack, "POST", "/admin/v1/tenants/" + tenant + "/keys", "{\"name\":\"load\",\"scopes\":[\"inference\"]}");
        assertThat(key.statusCode()).isEqualTo(201);
        return EventCodec.mapper().readTree(key.body()).path("apiKey").asText();
    }
}
