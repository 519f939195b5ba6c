package dev.tollgate.schemas.payment;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A payment for prepaid credit was refunded ({@code billing.payment.refunded} on {@code payments.v1}): the
 * billing service publishes it from the payment provider's signed webhook, always after the payment's own
 * {@link PaymentSucceeded} (ADR 0027), and the ledger voids the unspent part of the grant the payment bought
 * when the refund is full.
 *
 * @param paymentId            the provider's id of the refunded payment, as in {@link PaymentSucceeded} (a Checkout Session id)
 * @param refundedMicros       how much of it has been refunded so far, in micro-units of {@code currency}
 * @param paidMicros           what was paid
 * @param providerEventId      the provider's event that reported it (for the audit trail)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PaymentRefunded(String tenantId, String paymentId, @JsonProperty(required = true) long refundedMicros,
                              @JsonProperty(required = true) long paidMicros, String currency, String provider, String providerEventId)
        implements EventData {
    public PaymentRefunded {
        requiredText(tenantId, "tenantId");
        requiredText(paymentId, "paymentId");
        if (paidMicros <= 0 || refundedMicros <= 0 || refundedMicros > paidMicros) {
            throw new IllegalArgumentException("refundedMicros must be between 1 and paidMicros (" + paidMicros + "), was " + refundedMicros);
        }
        requiredText(currency, "currency");
        requiredText(provider, "provider");
    }

    /** True when all of the payment was refunded. */
    @JsonIgnore
    public boolean full() {
        return refundedMicros == paidMicros;
    }
}
