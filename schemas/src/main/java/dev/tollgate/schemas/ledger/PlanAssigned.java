package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/** A tenant moved to a plan from {@code effectiveFrom} on ({@code ledger.plan.assigned}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PlanAssigned(String tenantId, String planId, Instant effectiveFrom) implements EventData {
    public PlanAssigned {
        requiredText(tenantId, "tenantId");
        requiredText(planId, "planId");
        required(effectiveFrom, "effectiveFrom");
    }
}
