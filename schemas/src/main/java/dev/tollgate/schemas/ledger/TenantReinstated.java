package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/** A suspended tenant was reinstated ({@code ledger.tenant.reinstated}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TenantReinstated(String tenantId) implements EventData {
    public TenantReinstated {
        requiredText(tenantId, "tenantId");
    }
}
