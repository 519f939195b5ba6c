package dev.tollgate.schemas.credit;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A grant's unspent part withdrawn from {@code voidedAt} on ({@code ledger.credit.voided}): usage
 * before that time still burns it, usage after it cannot. What was spent stays spent.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CreditVoided(String tenantId, String grantId, String reason, Instant voidedAt) implements EventData {
    public CreditVoided {
        requiredText(tenantId, "tenantId");
        requiredText(grantId, "grantId");
        requiredText(reason, "reason");
        required(voidedAt, "voidedAt");
    }
}
