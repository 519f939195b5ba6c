package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A plan was created or changed ({@code ledger.plan.defined}): its default limits for tenants on it.
 * Platform-wide, so keyed by {@link EventData#PLATFORM_TENANT}.
 *
 * @param allowUnpricedUsage true if tenants on the plan may call models it has no price for (billed as
 *                           unpriced, at zero); absent (null) otherwise, so the gateway refuses such calls
 *                           (optional, added in v1)
 * @param billingMode        how tenants on the plan pay from this event's time on, unless a tenant has a mode of its own;
 *                           absent means POSTPAID (optional, added in v1)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PlanDefined(String planId, String name, Limits defaultLimits, Boolean allowUnpricedUsage, BillingMode billingMode)
        implements EventData {
    public PlanDefined {
        requiredText(planId, "planId");
        requiredText(name, "name");
        required(defaultLimits, "defaultLimits");
        allowUnpricedUsage = Boolean.TRUE.equals(allowUnpricedUsage) ? Boolean.TRUE : null;
        billingMode = billingMode == BillingMode.POSTPAID ? null : billingMode;
    }

    /** A postpaid plan that refuses models it has no price for. */
    public PlanDefined(String planId, String name, Limits defaultLimits) {
        this(planId, name, defaultLimits, null, null);
    }

    /** A postpaid plan. */
    public PlanDefined(String planId, String name, Limits defaultLimits, Boolean allowUnpricedUsage) {
        this(planId, name, defaultLimits, allowUnpricedUsage, null);
    }

    /** How tenants on the plan pay (POSTPAID when the event does not say). */
    @JsonIgnore
    public BillingMode mode() {
        return billingMode == null ? BillingMode.POSTPAID : billingMode;
    }

    /** True if tenants on the plan may call models without a price. */
    public boolean allowsUnpricedUsage() {
        return Boolean.TRUE.equals(allowUnpricedUsage);
    }

    @Override
    public String tenantId() {
        return PLATFORM_TENANT;
    }
}
