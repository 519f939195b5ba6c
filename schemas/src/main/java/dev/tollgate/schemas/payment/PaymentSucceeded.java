package dev.tollgate.schemas.payment;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A tenant paid for prepaid credit ({@code billing.payment.succeeded} on {@code payments.v1}): the
 * billing service publishes it when the payment provider's signed webhook confirms the payment, and
 * the ledger turns it into a credit grant, once per {@code paymentId} however often it arrives.
 *
 * @param paymentId   the provider's id of the payment (a Stripe Checkout Session id)
 * @param amountMicros what was paid, in micro-units of {@code currency}
 * @param providerEventId the provider's event that confirmed it (for the audit trail)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PaymentSucceeded(String tenantId, String paymentId, @JsonProperty(required = true) long amountMicros, String currency,
                               String provider, String providerEventId) implements EventData {
    public PaymentSucceeded {
        requiredText(tenantId, "tenantId");
        requiredText(paymentId, "paymentId");
        if (amountMicros <= 0) {
            throw new IllegalArgumentException("field 'amountMicros' must be > 0, was " + amountMicros);
        }
        requiredText(currency, "currency");
        requiredText(provider, "provider");
    }
}
