package dev.tollgate.schemas.credit;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * Part of a grant withdrawn from {@code reducedAt} on ({@code ledger.credit.reduced}; a partial refund of the payment that
 * bought it): usage from then on can burn it only up to {@code amountMicros}, usage before that time up to what it was
 * before. What was spent stays spent: a grant already burned beyond the new amount simply has nothing left.
 *
 * @param amountMicros the grant's amount from {@code reducedAt} on: below its amount before, above zero (nothing left at all is
 *                     a {@link CreditVoided})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CreditReduced(String tenantId, String grantId, @JsonProperty(required = true) long amountMicros, String reason,
                            Instant reducedAt) implements EventData {
    public CreditReduced {
        requiredText(tenantId, "tenantId");
        requiredText(grantId, "grantId");
        if (amountMicros <= 0) {
            throw new IllegalArgumentException("field 'amountMicros' must be > 0, was " + amountMicros);
        }
        requiredText(reason, "reason");
        required(reducedAt, "reducedAt");
    }
}
