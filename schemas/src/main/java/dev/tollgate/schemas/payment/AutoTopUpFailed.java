package dev.tollgate.schemas.payment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * An automatic top-up of a prepaid balance failed ({@code billing.autotopup.failed} on {@code payments.v1}, and sent to the
 * tenant's webhook): the balance fell below the tenant's threshold, the saved payment method was charged off-session and
 * the provider refused. It is not tried again until the balance crosses the threshold again after the next grant.
 *
 * @param remainingMicros what was left of the balance when the top-up was tried
 * @param code            the provider's reason (e.g. Stripe's {@code card_declined}, {@code authentication_required})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AutoTopUpFailed(String tenantId, @JsonProperty(required = true) long amountMicros, String currency,
                              @JsonProperty(required = true) long thresholdMicros, @JsonProperty(required = true) long remainingMicros,
                              String paymentMethodId, String code, String message) implements EventData {
    public AutoTopUpFailed {
        requiredText(tenantId, "tenantId");
        requiredText(currency, "currency");
        requiredText(code, "code");
    }
}
