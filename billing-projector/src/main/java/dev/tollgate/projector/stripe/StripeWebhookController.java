package dev.tollgate.projector.stripe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.credit.CreditPurchases;
import dev.tollgate.projector.credit.PaymentPublisher;
import dev.tollgate.projector.invoice.InvoiceStore;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.util.Map;

/**
 * Stripe's webhook (no JWT: the signature is the authentication). The body is verified with
 * stripe-java's {@link Webhook} helper against the endpoint secret, with its default 5-minute
 * timestamp tolerance (replay-safe); a bad or missing signature gets 400 and changes nothing. Each
 * Stripe event id is applied once. A paid credit purchase is published to {@code payments.v1}
 * before the event counts as received (ADR 0027): Stripe's retries of an event we failed to record
 * publish it again, and the ledger grants each payment once. A refunded credit purchase
 * ({@code charge.refunded}) is published after its payment, so the ledger always has the grant to void.
 */
@RestController
public class StripeWebhookController {
    private static final Map<String, String> STATUS_BY_TYPE = Map.of(
            "invoice.paid", "PAID",
            "invoice.payment_failed", "PAYMENT_FAILED",
            "invoice.voided", "VOID");

    /** What the webhook did with an event. */
    public record Receipt(String eventId, String type, boolean duplicate) {}

    private final InvoiceStore store;
    private final BillingProperties.Stripe config;
    private final ObjectMapper mapper;
    private final PaymentPublisher payments;
    private final CreditPurchases purchases;

    public StripeWebhookController(InvoiceStore store, BillingProperties properties, ObjectMapper mapper, PaymentPublisher payments,
                                   CreditPurchases purchases) {
        this.store = store;
        this.purchases = purchases;
        this.payments = payments;
        this.config = properties.stripe();
        this.mapper = mapper;
    }

    @PostMapping("/billing/v1/stripe/webhook")
    public Receipt receive(@RequestBody String payload, @RequestHeader(value = "Stripe-Signature", required = false) String signature) {
        if (config.webhookSecret() == null || config.webhookSecret().isBlank()) {
            throw new BillingException.Unavailable("webhook_not_configured", "no Stripe webhook secret is configured");
        }
        if (signature == null) {
            throw new BillingException.Invalid("invalid_signature", "the Stripe-Signature header is missing");
        }
        try {
            Webhook.Signature.verifyHeader(payload, signature, config.webhookSecret(), Webhook.DEFAULT_TOLERANCE);
        } catch (SignatureVerificationException e) {
            throw new BillingException.Invalid("invalid_signature", "the Stripe signature does not verify");
        }
        JsonNode event;
        try {
            event = mapper.readTree(payload);
        } catch (IOException e) {
            throw new BillingException.Invalid("invalid_payload", "the event is not JSON");
        }
        String eventId = event.path("id").asText(null);
        String type = event.path("type").asText(null);
        if (eventId == null || type == null) {
            throw new BillingException.Invalid("invalid_payload", "the event has no id or type");
        }
        CreditPurchases.confirmedBy(event, config.minorUnitDigits()).ifPresent(payments::publish);
        purchases.refundedBy(event).ifPresent(refund -> {
            payments.publish(refund.payment()); // the same event as its own confirmation: the grant exists before its refund
            payments.publish(refund.refund());
        });
        String stripeInvoiceId = type.startsWith("invoice.") ? event.path("data").path("object").path("id").asText(null) : null;
        boolean applied = store.applyStripeEvent(eventId, type, stripeInvoiceId, STATUS_BY_TYPE.get(type));
        return new Receipt(eventId, type, !applied);
    }
}
