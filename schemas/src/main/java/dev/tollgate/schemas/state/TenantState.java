package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.ledger.Limits;

import java.time.Instant;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A tenant as the gateway and projector need it ({@code tenants.state.v1}, key = tenant id).
 *
 * @param planId the plan in force when this state was published (readers that know {@code plans}
 *               price by the plan in force at each usage event's time instead)
 * @param limits the effective tenant limits (the plan's defaults overridden by the tenant's own)
 * @param webhookUrl where budget alerts go, if configured
 * @param webhookSecretVersion the version of the derived signing secret (see {@code WebhookSecrets})
 * @param plans every plan assignment of the tenant, oldest effective time first, past and scheduled
 *              (optional, added in v1 without a version bump: absent in states published before it)
 * @param allowUnpricedUsage whether the plan in force when published lets the tenant call models it
 *              has no price for; the ledger always sets it, absent only in states published before it
 *              existed, which the gateway treats as allowed (the behaviour of their time)
 * @param billingModes every billing-mode change, oldest first (optional, added in v1: absent means
 *              postpaid throughout, as every tenant was before prepaid credits existed)
 * @param credits every credit grant of the tenant, voided ones with their void time (optional, added in v1)
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
        Instant updatedAt,
        List<PlanPeriod> plans,
        Boolean allowUnpricedUsage,
        List<BillingModePeriod> billingModes,
        List<CreditGrant> credits) implements StateRecord {

    /** Only ACTIVE tenants are served. */
    public enum Status { ACTIVE, SUSPENDED }

    public TenantState {
        requiredText(tenantId, "tenantId");
        required(status, "status");
        requiredText(billingTimeZone, "billingTimeZone");
        requiredText(currency, "currency");
        limits = limits == null ? Limits.NONE : limits;
        required(updatedAt, "updatedAt");
        plans = plans == null ? null : List.copyOf(plans);
        billingModes = billingModes == null ? null : List.copyOf(billingModes);
        credits = credits == null ? null : List.copyOf(credits);
    }

    /** A state without a plan history, as published before it existed. */
    public TenantState(String tenantId, String name, Status status, String planId, String billingTimeZone, String currency, Limits limits,
                       String webhookUrl, Integer webhookSecretVersion, long version, Instant updatedAt) {
        this(tenantId, name, status, planId, billingTimeZone, currency, limits, webhookUrl, webhookSecretVersion, version, updatedAt, null, null,
                null, null);
    }

    /** A state with a plan history, as published before {@code allowUnpricedUsage} existed. */
    public TenantState(String tenantId, String name, Status status, String planId, String billingTimeZone, String currency, Limits limits,
                       String webhookUrl, Integer webhookSecretVersion, long version, Instant updatedAt, List<PlanPeriod> plans) {
        this(tenantId, name, status, planId, billingTimeZone, currency, limits, webhookUrl, webhookSecretVersion, version, updatedAt, plans,
                null, null, null);
    }

    /** A state with a plan history and {@code allowUnpricedUsage}, as published before prepaid credits existed. */
    public TenantState(String tenantId, String name, Status status, String planId, String billingTimeZone, String currency, Limits limits,
                       String webhookUrl, Integer webhookSecretVersion, long version, Instant updatedAt, List<PlanPeriod> plans,
                       Boolean allowUnpricedUsage) {
        this(tenantId, name, status, planId, billingTimeZone, currency, limits, webhookUrl, webhookSecretVersion, version, updatedAt, plans,
                allowUnpricedUsage, null, null);
    }

    @Override
    public String stateKey() {
        return tenantId;
    }
}
