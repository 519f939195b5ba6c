package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.ledger.Limits;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A tenant as the gateway and projector need it ({@code tenants.state.v1}, key = tenant id).
 *
 * @param limits the effective tenant limits (the plan's defaults overridden by the tenant's own)
 * @param webhookUrl where budget alerts go, if configured
 * @param webhookSecretVersion the version of the derived signing secret (see {@code WebhookSecrets})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TenantState(
        String tenantId,
        String name,
        Status status,
        String planId,
        String billingTimeZone,
        String currency,
        Limits limits,
        String webhookUrl,
        Integer webhookSecretVersion,
        @JsonProperty(required = true) long version,
        Instant updatedAt) implements StateRecord {

    /** Only ACTIVE tenants are served. */
    public enum Status { ACTIVE, SUSPENDED }

    public TenantState {
        requiredText(tenantId, "tenantId");
        required(status, "status");
        requiredText(billingTimeZone, "billingTimeZone");
        requiredText(currency, "currency");
        limits = limits == null ? Limits.NONE : limits;
        required(updatedAt, "updatedAt");
    }

    @Override
    public String stateKey() {
        return tenantId;
    }
}
