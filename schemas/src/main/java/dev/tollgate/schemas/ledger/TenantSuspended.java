package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/** A tenant was suspended: every key of it is refused from now on ({@code ledger.tenant.suspended}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TenantSuspended(String tenantId, String reason) implements EventData {
    public TenantSuspended {
        requiredText(tenantId, "tenantId");
        requiredText(reason, "reason");
    }
}
