package dev.tollgate.schemas.quota;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.state.QuotaState;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A budget crossed 50, 80 or 100 % of its limit ({@code quota.threshold.crossed}); emitted once per
 * budget, window and threshold by the projector, delivered to the tenant's webhook. A prepaid balance
 * (budget {@code credit}, window CREDIT, added in v1) alerts when 80, 95 and 100 % of the credit
 * that can pay is used (20 %, 5 % and nothing left), once per threshold and amount of credit: a
 * top-up arms them again.
 *
 * @param keyId            null for the tenant's own budget
 * @param budget           {@code tokens} (per day), {@code spend} (per billing period, micro-units) or {@code credit}
 *                         (the prepaid balance: {@code limit} the credit that can pay, {@code used} what of it is gone)
 * @param thresholdPercent 50, 80 or 100; 80, 95 or 100 for credit
 * @param mode             HARD or SOFT (spend limits); HARD for token limits
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QuotaThresholdCrossed(
        String tenantId,
        String keyId,
        QuotaState.Window window,
        Instant windowStart,
        String budget,
        @JsonProperty(required = true) long limit,
        @JsonProperty(required = true) long used,
        @JsonProperty(required = true) int thresholdPercent,
        String mode) implements EventData {

    public QuotaThresholdCrossed {
        requiredText(tenantId, "tenantId");
        required(window, "window");
        required(windowStart, "windowStart");
        requiredText(budget, "budget");
        requiredText(mode, "mode");
        nonNegative(limit, "limit");
        nonNegative(used, "used");
        if (thresholdPercent != 50 && thresholdPercent != 80 && thresholdPercent != 95 && thresholdPercent != 100) {
            throw new IllegalArgumentException("field 'thresholdPercent' must be 50, 80, 95 or 100, was " + thresholdPercent);
        }
    }
}
