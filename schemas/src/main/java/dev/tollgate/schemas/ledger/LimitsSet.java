package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/** Limits of a tenant, or of one of its keys when {@code keyId} is set ({@code ledger.limits.set}). */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LimitsSet(String tenantId, String keyId, Limits limits) implements EventData {
    public LimitsSet {
        requiredText(tenantId, "tenantId");
        required(limits, "limits");
    }
}
