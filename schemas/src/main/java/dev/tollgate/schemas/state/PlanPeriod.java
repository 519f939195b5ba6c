package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * One entry of a tenant's plan history: {@code planId} is in force from {@code effectiveFrom} until
 * the next entry's. A plan assigned for a future date is an entry whose time has not come yet.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PlanPeriod(String planId, Instant effectiveFrom) {
    public PlanPeriod {
        requiredText(planId, "planId");
        required(effectiveFrom, "effectiveFrom");
    }
}
