package dev.tollgate.schemas.credit;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * From {@code effectiveFrom} on the tenant's billing mode is its plan's again ({@code ledger.billingmode.cleared}): the
 * mode a {@link BillingModeSet} gave the tenant itself ends then.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BillingModeCleared(String tenantId, Instant effectiveFrom) implements EventData {
    public BillingModeCleared {
        requiredText(tenantId, "tenantId");
        required(effectiveFrom, "effectiveFrom");
    }
}
