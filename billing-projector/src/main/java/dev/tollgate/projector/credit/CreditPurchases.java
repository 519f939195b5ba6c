package dev.tollgate.projector.credit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.checkout.Session;
import com.stripe.param.checkout.SessionCreateParams;
import com.stripe.param.checkout.SessionListParams;
import dev.tollgate.billing.Money;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.stripe.StripeSync;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.payment.PaymentRefunded;
import dev.tollgate.schemas.payment.PaymentSucceeded;
import dev.tollgate.schemas.state.TenantState;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Buying prepaid credit through Stripe (ADR 0027): a one-time payment Checkout Session for the amount,
 * marked in its metadata as a credit purchase of the tenant; and, from Stripe's signed webhook, the
 * payment it confirms. The grant itself is the ledger's, made from {@code payments.v1}.
 */
@Component
public class CreditPurchases {
    /** The metadata that marks a session as a credit purchase, and whose. */
    static final String PURPOSE = "tollgate_purpose";
    static final String CREDIT_PURCHASE = "credit_purchase";
    static final String TENANT = "tenant_id";
    /** The most one purchase may buy, in units of the currency. */
    static final long MAX_UNITS = 100_000;

    /** What the caller opens to pay. */
    public record Checkout(String tenantId, String sessionId, String checkoutUrl, long amountMicros, String currency) {}

    private final BillingProperties.Stripe config;
    private final StripeClient client;
    private final String defaultSuccessUrl;

    public CreditPurchases(BillingProperties properties,
                           @Value("${tollgate.stripe.checkout-success-url:http://127.0.0.1:8083/}") String defaultSuccessUrl) {
        this.config = properties.stripe();
        this.client = StripeSync.client(config);
        this.defaultSuccessUrl = defaultSuccessUrl;
    }

    /** A Checkout Session for {@code amountMicros} of the tenant's currency: a whole number of its minor units, 1 to 100,000 units. */
    public Checkout start(TenantState tenant, long amountMicros, String successUrl) {
        checkAmount(amountMicros, tenant.currency(), config.minorUnitDigits());
        if (client == null) {
            throw new BillingException.Unavailable("stripe_not_configured", "Stripe is not configured on this billing service");
        }
        String currency = tenant.currency().toLowerCase(Locale.ROOT);
        try {
            Session session = client.v1().checkout().sessions().create(SessionCreateParams.builder()
                    .setMode(SessionCreateParams.Mode.PAYMENT)
                    .setSuccessUrl(successUrl == null ? defaultSuccessUrl : successUrl)
                    .setClientReferenceId(tenant.tenantId())
                    .putMetadata(PURPOSE, CREDIT_PURCHASE).putMetadata(TENANT, tenant.tenantId())
                    .putMetadata("amount_micros", Long.toString(amountMicros))
                    .addLineItem(SessionCreateParams.LineItem.builder().setQuantity(1L)
                            .setPriceData(SessionCreateParams.LineItem.PriceData.builder().setCurrency(currency)
                                    .setUnitAmount(Money.toMinorUnits(amountMicros, config.minorUnitDigits()))
                                    .setProductData(SessionCreateParams.LineItem.PriceData.ProductData.builder()
                                            .setName("Tollgate prepaid credit").build())
                                    .build())
                            .build())
                    .build(), StripeSync.key("checkout:" + tenant.tenantId() + ":" + UUID.randomUUID()));
            return new Checkout(tenant.tenantId(), session.getId(), session.getUrl(), amountMicros, tenant.currency());
        } catch (StripeException e) {
            throw new BillingException.Unavailable("stripe_unavailable", "Stripe did not create the checkout session: " + e.getCode());
        }
    }

    /** A purchase's amount: 1 to {@link #MAX_UNITS} units of the currency, a whole number of its minor units; else 400. */
    public static void checkAmount(long amountMicros, String currency, int minorUnitDigits) {
        long microsPerMinor = BigDecimal.TEN.pow(6 - minorUnitDigits).longValueExact();
        if (amountMicros < Money.MICROS_PER_UNIT || amountMicros > MAX_UNITS * Money.MICROS_PER_UNIT || amountMicros % microsPerMinor != 0) {
            throw new BillingException.Invalid("invalid_amount", "amountMicros must be between 1 and " + MAX_UNITS + " units of "
                    + currency + " and a whole number of its minor units (" + microsPerMinor + " micro-units)");
        }
    }

    /**
     * The payment a Stripe event confirms, if it is a paid credit purchase: {@code checkout.session.completed} with
     * {@code payment_status} paid, or {@code checkout.session.async_payment_succeeded}, or an automatic top-up's
     * {@code payment_intent.succeeded} ({@link AutoTopUps}); anything else (an unpaid
     * completion, an expiry, another purpose) confirms nothing.
     */
    public static Optional<PaymentSucceeded> confirmedBy(JsonNode event, int minorUnitDigits) {
        String type = event.path("type").asText("");
        JsonNode session = event.path("data").path("object");
        if (type.equals("payment_intent.succeeded")) {
            return AutoTopUps.paymentOf(session, event.path("id").asText(null), minorUnitDigits);
        }
        boolean confirms = type.equals("checkout.session.completed") || type.equals("checkout.session.async_payment_succeeded");
        return confirms ? paymentOf(session, event.path("id").asText(null), minorUnitDigits) : Optional.empty();
    }

    /** The payment of a paid credit purchase session; empty for an unpaid session or another purpose. */
    private static Optional<PaymentSucceeded> paymentOf(JsonNode session, String providerEventId, int minorUnitDigits) {
        if (!"paid".equals(session.path("payment_status").asText()) || !CREDIT_PURCHASE.equals(session.path("metadata").path(PURPOSE).asText())) {
            return Optional.empty();
        }
        String tenant = session.path("metadata").path(TENANT).asText("");
        long minor = session.path("amount_total").asLong(0);
        String currency = session.path("currency").asText("");
        if (tenant.isEmpty() || minor <= 0 || currency.length() != 3 || !session.hasNonNull("id")) {
            throw new BillingException.Invalid("invalid_payload", "a credit purchase session without tenant, amount or currency");
        }
        return Optional.of(new PaymentSucceeded(tenant, session.path("id").asText(), micros(minor, minorUnitDigits),
                currency.toUpperCase(Locale.ROOT), "stripe", providerEventId));
    }

    static long micros(long minor, int minorUnitDigits) {
        return BigDecimal.valueOf(minor).movePointRight(6 - minorUnitDigits).longValueExact();
    }

    /** A refund of a credit purchase: the payment it refunds (published first, in case its own event is still to come) and the refund. */
    public record Refund(PaymentSucceeded payment, PaymentRefunded refund) {}

    /**
     * The credit purchase a {@code charge.refunded} event refunds, if it is one: the Charge names its PaymentIntent, and
     * Stripe's list of Checkout Sessions by PaymentIntent names the session and its metadata. Anything else (another
     * event, a charge of an invoice) refunds no credit.
     */
    public Optional<Refund> refundedBy(JsonNode event) {
        if (!"charge.refunded".equals(event.path("type").asText(""))) {
            return Optional.empty();
        }
        JsonNode charge = event.path("data").path("object");
        String paymentIntent = charge.path("payment_intent").asText("");
        long refundedMinor = charge.path("amount_refunded").asLong(0);
        if (paymentIntent.isEmpty() || refundedMinor <= 0) {
            return Optional.empty();
        }
        if (client == null) {
            throw new BillingException.Unavailable("stripe_not_configured", "Stripe is not configured on this billing service");
        }
        List<Session> sessions;
        try {
            sessions = client.v1().checkout().sessions().list(SessionListParams.builder().setPaymentIntent(paymentIntent).build()).getData();
        } catch (StripeException e) {
            // 503: Stripe delivers the event again later.
            throw new BillingException.Unavailable("stripe_unavailable", "Stripe did not answer which purchase was refunded: " + e.getCode());
        }
        for (Session session : sessions) {
            JsonNode json;
            try {
                json = EventCodec.mapper().readTree(session.toJson());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("stripe-java wrote a session that is not JSON", e);
            }
            Optional<PaymentSucceeded> payment = paymentOf(json, event.path("id").asText(null), config.minorUnitDigits());
            if (payment.isPresent()) {
                PaymentSucceeded paid = payment.get();
                long refunded = Math.min(micros(refundedMinor, config.minorUnitDigits()), paid.amountMicros());
                return Optional.of(new Refund(paid, new PaymentRefunded(paid.tenantId(), paid.paymentId(), refunded, paid.amountMicros(),
                        paid.currency(), "stripe", event.path("id").asText(null))));
            }
        }
        return Optional.empty();
    }
}
