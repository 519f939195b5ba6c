package dev.tollgate.console.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.console.config.ConsoleProperties;
import io.opentelemetry.api.OpenTelemetry;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientManager;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Map;

/** The billing API calls the pages make (ARCHITECTURE.md, "Billing API"). */
@Component
public class BillingApi {
    private final ApiClient api;

    public BillingApi(ConsoleProperties properties, OAuth2AuthorizedClientManager tokens, OpenTelemetry openTelemetry, ObjectMapper mapper) {
        this.api = new ApiClient("billing", properties.billingApiUrl(), tokens, openTelemetry, mapper);
    }

    /** Live usage per window, key and model; {@code from} and {@code to} are dates or instants, {@code to} exclusive. */
    public Map<String, Object> usage(String tenantId, String granularity, String from, String to) {
        return api.get("/billing/v1/tenants/{tenantId}/usage?granularity={g}&from={from}&to={to}", tenantId, granularity, from, to);
    }

    public List<Map<String, Object>> invoices(String tenantId) {
        return api.list("/billing/v1/tenants/{tenantId}/invoices", tenantId);
    }

    /** Every tenant's invoice of {@code period} (YYYY-MM), without lines. */
    public List<Map<String, Object>> invoicesOfPeriod(String period, int limit, int offset) {
        return api.list("/billing/v1/invoices?period={period}&limit={limit}&offset={offset}", period, limit, offset);
    }

    /** Sends a signed test event to the tenant's webhook; the answer says whether it was delivered. */
    public Map<String, Object> testWebhook(String tenantId) {
        return api.send("POST", "/billing/v1/tenants/{tenantId}/webhook:test", Map.of(), null, tenantId);
    }

    /** How many dead letters there are and the newest of them. */
    public Map<String, Object> deadLetters() {
        return api.get("/billing/v1/dead-letters");
    }

    /** The tenant's prepaid balance: grants, what was burned of each, what is left. */
    public Map<String, Object> balance(String tenantId) {
        return api.get("/billing/v1/tenants/{tenantId}/balance", tenantId);
    }

    /** Starts a credit purchase; the answer holds Stripe's checkout URL. */
    public Map<String, Object> buyCredit(String tenantId, long amountMicros, String successUrl) {
        return api.send("POST", "/billing/v1/tenants/{tenantId}/credit-purchases", Map.of("amountMicros", amountMicros, "successUrl", successUrl),
                null, tenantId);
    }

    public Map<String, Object> invoice(String invoiceId) {
        return api.get("/billing/v1/invoices/{invoiceId}", invoiceId);
    }

    public Map<String, Object> syncStripe(String invoiceId) {
        return api.send("POST", "/billing/v1/invoices/{invoiceId}:sync-stripe", Map.of(), null, invoiceId);
    }
}
