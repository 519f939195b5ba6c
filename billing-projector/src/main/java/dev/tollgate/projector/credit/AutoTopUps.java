package dev.tollgate.projector.credit;

import com.fasterxml.jackson.databind.JsonNode;
import com.stripe.StripeClient;
import com.stripe.exception.ApiConnectionException;
import com.stripe.exception.CardException;
import com.stripe.exception.StripeException;
import com.stripe.model.PaymentIntent;
import com.stripe.param.PaymentIntentCreateParams;
import com.stripe.param.PaymentMethodAttachParams;
import dev.tollgate.billing.Money;
import dev.tollgate.billing.credit.CreditStatement;
import dev.tollgate.projector.alert.AlertWebhooks;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.quota.BalanceQueries;
import dev.tollgate.projector.stripe.StripeSync;
import dev.tollgate.projector.usage.UsageQueries;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.payment.AutoTopUpFailed;
import dev.tollgate.schemas.payment.PaymentSucceeded;
import dev.tollgate.schemas.state.TenantState;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Automatic top-ups of prepaid balances (ADR 0027). A tenant saves a Stripe payment method with a threshold and an amount;
 * the instance that owns the tenant's balance checks it every {@code tollgate.auto-top-up.interval} and, when what is left
 * falls below the threshold, charges the method off-session (a PaymentIntent confirmed at once). Each crossing of the
 * threshold is named by the credit granted at the time, and the first instance to record an attempt for it is the only
 * one that charges (a row keyed by tenant and crossing; Stripe's idempotency key is derived from the same), so a crossing
 * is charged at most once: only a new grant (the top-up's own, or any other) arms the next one. A paid charge is
 * published to {@code payments.v1} like a checkout purchase (the ledger grants it once, with the PaymentIntent as the
 * payment); a refused one is published as {@code billing.autotopup.failed} and sent to the tenant's webhook, and is not
 * tried again for that crossing. A charge whose answer was lost (network) is tried again with the same key.
 */
@Component
public class AutoTopUps {
    private static final Logger LOG = LoggerFactory.getLogger(AutoTopUps.class);
    static final String AUTO_TOP_UP = "auto_top_up";

    /** A tenant's setting. */
    public record Setting(String tenantId, long thresholdMicros, long amountMicros, String currency, String paymentMethodId, boolean enabled,
                          Instant updatedAt, List<Attempt> attempts) {}

    /** One charge, newest first in a setting. */
    public record Attempt(String crossing, long amountMicros, long remainingMicros, String status, String paymentIntentId, String errorCode,
                          String errorMessage, Instant createdAt) {}

    private final JdbcTemplate jdbc;
    private final BalanceQueries balances;
    private final UsageQueries usage;
    private final StripeSync stripe;
    private final PaymentPublisher payments;
    private final AlertWebhooks webhooks;
    private final BillingProperties.Stripe config;
    private final StripeClient client;
    private final Clock clock;
    private final MeterRegistry registry;

    public AutoTopUps(JdbcTemplate jdbc, BalanceQueries balances, UsageQueries usage, StripeSync stripe, PaymentPublisher payments,
                      AlertWebhooks webhooks, BillingProperties properties, Clock clock, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.balances = balances;
        this.usage = usage;
        this.stripe = stripe;
        this.payments = payments;
        this.webhooks = webhooks;
        this.config = properties.stripe();
        this.client = StripeSync.client(config);
        this.clock = clock;
        this.registry = registry;
        for (String outcome : List.of("succeeded", "failed", "retried")) {
            registry.counter("tollgate.auto.top.ups", "outcome", outcome);
        }
    }

    /**
     * Saves the setting: the payment method is attached to the tenant's Stripe customer (created if needed) first, so a
     * method Stripe does not know is refused here (400) and not at the first top-up.
     */
    public Setting configure(TenantState tenant, long thresholdMicros, long amountMicros, String paymentMethodId) {
        CreditPurchases.checkAmount(amountMicros, tenant.currency(), config.minorUnitDigits());
        if (thresholdMicros < 0 || thresholdMicros > CreditPurchases.MAX_UNITS * Money.MICROS_PER_UNIT) {
            throw new BillingException.Invalid("invalid_threshold", "thresholdMicros must be between 0 and " + CreditPurchases.MAX_UNITS
                    + " units of " + tenant.currency());
        }
        if (paymentMethodId == null || !paymentMethodId.matches("pm_[A-Za-z0-9_]{1,100}")) {
            throw new BillingException.Invalid("invalid_payment_method", "paymentMethodId must be a Stripe PaymentMethod id (pm_...)");
        }
        if (client == null) {
            throw new BillingException.Unavailable("stripe_not_configured", "Stripe is not configured on this billing service");
        }
        String customer;
        try {
            customer = stripe.customer(tenant.tenantId());
            client.v1().paymentMethods().attach(paymentMethodId, PaymentMethodAttachParams.builder().setCustomer(customer).build(),
                    StripeSync.key("attach:" + tenant.tenantId() + ":" + paymentMethodId));
        } catch (StripeException e) {
            if (e.getStatusCode() != null && e.getStatusCode() / 100 == 4) {
                throw new BillingException.Invalid("invalid_payment_method", "Stripe refused the payment method: "
                        + (e.getStripeError() == null ? e.getCode() : e.getStripeError().getMessage()));
            }
            throw new BillingException.Unavailable("stripe_unavailable", "Stripe did not attach the payment method: " + e.getCode());
        }
        jdbc.update("""
                insert into auto_top_ups (tenant_id, threshold_micros, amount_micros, currency, stripe_customer_id, stripe_payment_method_id,
                    enabled, updated_at)
                values (?, ?, ?, ?, ?, ?, true, now())
                on conflict (tenant_id) do update set threshold_micros = excluded.threshold_micros, amount_micros = excluded.amount_micros,
                    currency = excluded.currency, stripe_customer_id = excluded.stripe_customer_id,
                    stripe_payment_method_id = excluded.stripe_payment_method_id, enabled = true, updated_at = now()""",
                tenant.tenantId(), thresholdMicros, amountMicros, tenant.currency(), customer, paymentMethodId);
        return setting(tenant.tenantId()).orElseThrow();
    }

    /** Turns automatic top-ups off (the setting and its attempts stay, for the record); false if there was none. */
    public boolean disable(String tenantId) {
        return jdbc.update("update auto_top_ups set enabled = false, updated_at = now() where tenant_id = ?", tenantId) == 1;
    }

    /** The tenant's setting with its last ten attempts. */
    public Optional<Setting> setting(String tenantId) {
        List<Attempt> attempts = jdbc.query("select * from auto_top_up_attempts where tenant_id = ? order by created_at desc limit 10",
                (rs, n) -> new Attempt(rs.getString("crossing"), rs.getLong("amount_micros"), rs.getLong("remaining_micros"), rs.getString("status"),
                        rs.getString("payment_intent_id"), rs.getString("error_code"), rs.getString("error_message"),
                        rs.getTimestamp("created_at").toInstant()), tenantId);
        return jdbc.query("select * from auto_top_ups where tenant_id = ?", (rs, n) -> new Setting(rs.getString("tenant_id"),
                rs.getLong("threshold_micros"), rs.getLong("amount_micros"), rs.getString("currency"), rs.getString("stripe_payment_method_id"),
                rs.getBoolean("enabled"), rs.getTimestamp("updated_at").toInstant(), attempts), tenantId).stream().findFirst();
    }

    private record Enabled(String tenantId, long thresholdMicros, long amountMicros, String currency, String customer, String paymentMethod) {}

    /** Checks every enabled setting whose tenant this instance owns. */
    @Scheduled(fixedDelayString = "${tollgate.auto-top-up.interval:PT2S}")
    public void check() {
        if (client == null) {
            return;
        }
        List<Enabled> enabled = jdbc.query("select * from auto_top_ups where enabled", (rs, n) -> new Enabled(rs.getString("tenant_id"),
                rs.getLong("threshold_micros"), rs.getLong("amount_micros"), rs.getString("currency"), rs.getString("stripe_customer_id"),
                rs.getString("stripe_payment_method_id")));
        for (Enabled setting : enabled) {
            try {
                if (usage.remoteOwner(setting.tenantId()) == null) {
                    check(setting);
                }
            } catch (BillingException.Unavailable | BillingException.NotFound e) {
                LOG.debug("auto top-up of tenant {} not checked now: {}", setting.tenantId(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("auto top-up of tenant {} not checked: {}", setting.tenantId(), e.toString());
            }
        }
    }

    private void check(Enabled setting) {
        CreditStatement balance = balances.local(setting.tenantId()).statement();
        if (!balance.mode().burnsCredits() || balance.remainingMicros() >= setting.thresholdMicros()) {
            return;
        }
        // The crossing: what had been granted when the balance fell below the threshold (a new grant names a new one).
        String crossing = balance.grants().size() + ":" + balance.grantedMicros();
        int recorded = jdbc.update("""
                insert into auto_top_up_attempts (tenant_id, crossing, amount_micros, remaining_micros, status)
                values (?, ?, ?, ?, 'CHARGING') on conflict do nothing""",
                setting.tenantId(), crossing, setting.amountMicros(), balance.remainingMicros());
        boolean retry = recorded == 0 && "CHARGING".equals(jdbc.queryForObject(
                "select status from auto_top_up_attempts where tenant_id = ? and crossing = ?", String.class, setting.tenantId(), crossing));
        if (recorded == 0 && !retry) {
            return; // this crossing was charged (or refused) already
        }
        charge(setting, crossing, balance.remainingMicros());
    }

    private void charge(Enabled setting, String crossing, long remaining) {
        try {
            PaymentIntent intent = client.v1().paymentIntents().create(PaymentIntentCreateParams.builder()
                    .setAmount(Money.toMinorUnits(setting.amountMicros(), config.minorUnitDigits()))
                    .setCurrency(setting.currency().toLowerCase(Locale.ROOT)).setCustomer(setting.customer())
                    .setPaymentMethod(setting.paymentMethod()).setOffSession(true).setConfirm(true)
                    .setDescription("Tollgate prepaid credit (automatic top-up)")
                    .putMetadata(CreditPurchases.PURPOSE, CreditPurchases.CREDIT_PURCHASE).putMetadata(CreditPurchases.TENANT, setting.tenantId())
                    .putMetadata(AUTO_TOP_UP, "true").build(), StripeSync.key("auto-top-up:" + setting.tenantId() + ":" + crossing));
            if (!"succeeded".equals(intent.getStatus())) {
                failed(setting, crossing, remaining, intent.getId(), intent.getStatus(), "the payment is " + intent.getStatus());
                return;
            }
            payments.publish(new PaymentSucceeded(setting.tenantId(), intent.getId(), setting.amountMicros(), setting.currency(), "stripe", null));
            jdbc.update("update auto_top_up_attempts set status = 'SUCCEEDED', payment_intent_id = ?, updated_at = now() "
                    + "where tenant_id = ? and crossing = ?", intent.getId(), setting.tenantId(), crossing);
            registry.counter("tollgate.auto.top.ups", "outcome", "succeeded").increment();
            LOG.info("auto top-up of tenant {}: {} {} charged ({} left, threshold {})", setting.tenantId(), Money.format(setting.amountMicros()),
                    setting.currency(), Money.format(remaining), Money.format(setting.thresholdMicros()));
        } catch (CardException e) {
            failed(setting, crossing, remaining, e.getStripeError() == null || e.getStripeError().getPaymentIntent() == null ? null
                    : e.getStripeError().getPaymentIntent().getId(), e.getCode(), e.getStripeError() == null ? e.getMessage()
                    : e.getStripeError().getMessage());
        } catch (ApiConnectionException e) {
            registry.counter("tollgate.auto.top.ups", "outcome", "retried").increment();
            LOG.warn("auto top-up of tenant {}: Stripe's answer was lost; charged again with the same idempotency key", setting.tenantId());
        } catch (StripeException e) {
            if (e.getStatusCode() != null && e.getStatusCode() / 100 == 4) {
                failed(setting, crossing, remaining, null, e.getCode() == null ? "invalid_request" : e.getCode(),
                        e.getStripeError() == null ? e.getMessage() : e.getStripeError().getMessage());
            } else {
                registry.counter("tollgate.auto.top.ups", "outcome", "retried").increment();
                LOG.warn("auto top-up of tenant {}: Stripe answered {}; tried again with the same idempotency key", setting.tenantId(),
                        e.getStatusCode());
            }
        }
    }

    /** A refused charge: recorded, published on payments.v1 and sent to the tenant's webhook, once per crossing. */
    private void failed(Enabled setting, String crossing, long remaining, String paymentIntent, String code, String message) {
        String reason = code == null ? "payment_failed" : code;
        jdbc.update("update auto_top_up_attempts set status = 'FAILED', payment_intent_id = ?, error_code = ?, error_message = ?, "
                + "updated_at = now() where tenant_id = ? and crossing = ?", paymentIntent, reason, message, setting.tenantId(), crossing);
        registry.counter("tollgate.auto.top.ups", "outcome", "failed").increment();
        LOG.warn("auto top-up of tenant {} refused by Stripe: {} ({})", setting.tenantId(), reason, message);
        String id = UUID.nameUUIDFromBytes(("auto-top-up-failed:" + setting.tenantId() + ":" + crossing).getBytes(StandardCharsets.UTF_8)).toString();
        var event = CloudEvent.withId(id, EventType.BILLING_AUTOTOPUP_FAILED, "/billing-projector", clock.instant(), setting.tenantId(), null,
                new AutoTopUpFailed(setting.tenantId(), setting.amountMicros(), setting.currency(), setting.thresholdMicros(), remaining,
                        setting.paymentMethod(), reason, message));
        payments.publish(event);
        webhooks.enqueue(balances.tenant(setting.tenantId()), id, new String(EventCodec.encode(event), StandardCharsets.UTF_8));
    }

    /** The payment of an automatic top-up's {@code payment_intent.succeeded} (Stripe's confirmation of what the charge answered). */
    static Optional<PaymentSucceeded> paymentOf(JsonNode intent, String providerEventId, int minorUnitDigits) {
        JsonNode metadata = intent.path("metadata");
        if (!"succeeded".equals(intent.path("status").asText()) || !"true".equals(metadata.path(AUTO_TOP_UP).asText())
                || !CreditPurchases.CREDIT_PURCHASE.equals(metadata.path(CreditPurchases.PURPOSE).asText())) {
            return Optional.empty();
        }
        String tenant = metadata.path(CreditPurchases.TENANT).asText("");
        long minor = intent.path("amount_received").asLong(0);
        String currency = intent.path("currency").asText("");
        if (tenant.isEmpty() || minor <= 0 || currency.length() != 3 || !intent.hasNonNull("id")) {
            throw new BillingException.Invalid("invalid_payload", "an automatic top-up without tenant, amount or currency");
        }
        return Optional.of(new PaymentSucceeded(tenant, intent.path("id").asText(), CreditPurchases.micros(minor, minorUnitDigits),
                currency.toUpperCase(Locale.ROOT), "stripe", providerEventId));
    }
}
