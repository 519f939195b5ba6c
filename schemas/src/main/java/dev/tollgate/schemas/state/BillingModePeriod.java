package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.credit.BillingMode;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;

/** One entry of a tenant's billing-mode history: {@code mode} applies from {@code effectiveFrom} until the next entry's. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BillingModePeriod(BillingMode mode, Instant effectiveFrom) {
    public BillingModePeriod {
        required(mode, "mode");
        required(effectiveFrom, "effectiveFrom");
    }
}
