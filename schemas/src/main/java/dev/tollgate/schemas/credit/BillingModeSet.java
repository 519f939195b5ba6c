package dev.tollgate.schemas.credit;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A tenant's own billing mode from {@code effectiveFrom} on ({@code ledger.billingmode.set}), whatever its plan's; until a
 * {@link BillingModeCleared} makes it follow its plan's again.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BillingModeSet(String tenantId, BillingMode mode, Instant effectiveFrom) implements EventData {
    public BillingModeSet {
        requiredText(tenantId, "tenantId");
        required(mode, "mode");
        required(effectiveFrom, "effectiveFrom");
    }
}
