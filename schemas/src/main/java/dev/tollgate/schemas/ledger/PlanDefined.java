package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
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
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PlanDefined(String planId, String name, Limits defaultLimits, Boolean allowUnpricedUsage) implements EventData {
    public PlanDefined {
        requiredText(planId, "planId");
        requiredText(name, "name");
        required(defaultLimits, "defaultLimits");
        allowUnpricedUsage = Boolean.TRUE.equals(allowUnpricedUsage) ? Boolean.TRUE : null;
    }

    /** A plan that refuses models it has no price for. */
    public PlanDefined(String planId, String name, Limits defaultLimits) {
        this(planId, name, defaultLimits, null);
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
