package dev.tollgate.console.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.console.config.ConsoleProperties;
import io.opentelemetry.api.OpenTelemetry;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientManager;
import org.springframework.stereotype.Component;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The ledger's admin API calls the pages make (ARCHITECTURE.md, "Admin API"). */
@Component
public class AdminApi {
    private final ApiClient api;

    public AdminApi(ConsoleProperties properties, OAuth2AuthorizedClientManager tokens, OpenTelemetry openTelemetry, ObjectMapper mapper) {
        this.api = new ApiClient("admin", properties.adminApiUrl(), tokens, openTelemetry, mapper);
    }

    public Map<String, Object> tenant(String tenantId) {
        return api.get("/admin/v1/tenants/{tenantId}", tenantId);
    }

    /** Every tenant (platform-admin, billing, auditor), at most {@code limit} from {@code offset}. */
    public List<Map<String, Object>> tenants(int limit, int offset) {
        return api.list("/admin/v1/tenants?limit={limit}&offset={offset}", limit, offset);
    }

    public List<Map<String, Object>> plans() {
        return api.list("/admin/v1/plans");
    }

    /** Every price list, by plan and effective time. */
    public List<Map<String, Object>> priceLists() {
        return api.list("/admin/v1/price-lists");
    }

    public List<Map<String, Object>> keys(String tenantId) {
        return api.list("/admin/v1/tenants/{tenantId}/keys", tenantId);
    }

    /** The new key with its secret ({@code apiKey}), which the API shows this once. */
    public Map<String, Object> issueKey(String tenantId, String name, List<String> scopes, List<String> allowedModels, String idempotencyKey) {
        var body = new LinkedHashMap<String, Object>();
        body.put("name", name);
        if (!scopes.isEmpty()) {
            body.put("scopes", scopes);
        }
        if (!allowedModels.isEmpty()) {
            body.put("allowedModels", allowedModels);
        }
        return api.send("POST", "/admin/v1/tenants/{tenantId}/keys", body, idempotencyKey, tenantId);
    }

    public Map<String, Object> key(String keyId) {
        return api.get("/admin/v1/keys/{keyId}", keyId);
    }

    public Map<String, Object> rotateKey(String keyId, long gracePeriodSeconds, String idempotencyKey) {
        return api.send("POST", "/admin/v1/keys/{keyId}:rotate", Map.of("gracePeriodSeconds", gracePeriodSeconds), idempotencyKey, keyId);
    }

    public Map<String, Object> revokeKey(String keyId, String reason, String idempotencyKey) {
        return api.send("POST", "/admin/v1/keys/{keyId}:revoke", Map.of("reason", reason), idempotencyKey, keyId);
    }

    /** The tenant's control-plane history, {@code limit} events from {@code fromSequence}. */
    public Map<String, Object> events(String tenantId, long fromSequence, int limit) {
        return api.get("/admin/v1/tenants/{tenantId}/events?fromSequence={from}&limit={limit}", tenantId, fromSequence, limit);
    }

    /** The webhook with its new signing secret, which the API shows this once. */
    public Map<String, Object> configureWebhook(String tenantId, String url) {
        return api.send("PUT", "/admin/v1/tenants/{tenantId}/webhook", Map.of("url", url), null, tenantId);
    }
}
