package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A plan was created or changed ({@code ledger.plan.defined}): its default limits for tenants on it.
 * Platform-wide, so keyed by {@link EventData#PLATFORM_TENANT}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PlanDefined(String planId, String name, Limits defaultLimits) implements EventData {
    public PlanDefined {
        requiredText(planId, "planId");
        requiredText(name, "name");
        required(defaultLimits, "defaultLimits");
    }

    @Override
    public String tenantId() {
        return PLATFORM_TENANT;
    }
}
