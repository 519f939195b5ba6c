package dev.tollgate.projector.stripe;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.Customer;
import com.stripe.model.Invoice;
import com.stripe.model.InvoiceItem;
import com.stripe.net.RequestOptions;
import com.stripe.param.CustomerCreateParams;
import com.stripe.param.InvoiceCreateParams;
import com.stripe.param.InvoiceItemCreateParams;
import dev.tollgate.billing.Money;
import dev.tollgate.billing.PriceUnit;
import dev.tollgate.billing.credit.InvoiceCredits;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.invoice.InvoiceStore;
import dev.tollgate.projector.invoice.InvoiceView;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Pushes a finalized invoice to Stripe with stripe-java (ADR 0008): the tenant's Customer (tenant id
 * in metadata), a draft Invoice, one InvoiceItem per line attached to it, one negative InvoiceItem
 * per credit applied (ADR 0028: Stripe charges the amount due only), then finalization. Every
 * call carries an idempotency key derived from the invoice and line ids, stripe-java retries
 * network failures and 5xx with the same key and exponential backoff, and each created id is stored
 * before the next step, so a repeated sync resumes where the last stopped and never duplicates
 * anything. An invoice Stripe reports as already finalized counts as delivered.
 */
@Component
public class StripeSync {
    private static final Logger LOG = LoggerFactory.getLogger(StripeSync.class);

    private final InvoiceStore store;
    private final BillingProperties.Stripe config;
    private final StripeClient client;

    private final MeterRegistry registry;

    public StripeSync(InvoiceStore store, BillingProperties properties, MeterRegistry registry) {
        this.store = store;
        this.registry = registry;
        // Both outcomes exist from the start (at 0), so that a rate or an alert on failures has a series to read.
        registry.counter("tollgate.stripe.sync", "outcome", "synced");
        registry.counter("tollgate.stripe.sync", "outcome", "failed");
        this.config = properties.stripe();
        this.client = client(config);
    }

    /** A client for the configured account, or null when Stripe is not configured. */
    public static StripeClient client(BillingProperties.Stripe config) {
        return config.enabled()
                ? StripeClient.builder().setApiKey(config.apiKey()).setApiBase(config.apiBase()).setMaxNetworkRetries(config.maxNetworkRetries())
                .build()
                : null;
    }

    /** Syncs one invoice; a synced invoice is left alone. */
    public void sync(String invoiceId) {
        if (client == null) {
            throw new BillingException.Unavailable("stripe_not_configured", "Stripe is not configured on this billing service");
        }
        InvoiceView invoice = store.invoice(invoiceId).orElseThrow(() -> new BillingException.NotFound("not_found", "no such resource"));
        if ("DRAFT".equals(invoice.status())) {
            throw new BillingException.Conflict("invoice_not_final", "only finalized invoices go to Stripe; this period is still open");
        }
        if (!store.startSync(invoiceId)) {
            return;
        }
        try {
            String customerId = customer(invoice.tenantId());
            String stripeInvoiceId = invoice.stripe().invoiceId();
            String currency = invoice.currency().toLowerCase(Locale.ROOT);
            if (stripeInvoiceId == null) {
                Invoice created = client.v1().invoices().create(InvoiceCreateParams.builder()
                        .setCustomer(customerId).setCurrency(currency).setAutoAdvance(false)
                        .setCollectionMethod(InvoiceCreateParams.CollectionMethod.SEND_INVOICE).setDaysUntilDue(config.daysUntilDue())
                        .setPendingInvoiceItemsBehavior(InvoiceCreateParams.PendingInvoiceItemsBehavior.EXCLUDE)
                        .setDescription("Tollgate usage " + invoice.period())
                        .setMetadata(Map.of("tollgate_invoice_id", invoiceId, "tenant_id", invoice.tenantId(), "period", invoice.period()))
                        .build(), key(invoiceId + ":invoice"));
                stripeInvoiceId = created.getId();
                store.saveStripeInvoice(invoiceId, customerId, stripeInvoiceId);
            }
            Map<Integer, String> pushed = store.stripeLineItems(invoiceId);
            for (InvoiceView.Line line : invoice.lines()) {
                if (pushed.containsKey(line.lineNo())) {
                    continue;
                }
                InvoiceItem item = client.v1().invoiceItems().create(InvoiceItemCreateParams.builder()
                        .setCustomer(customerId).setInvoice(stripeInvoiceId).setCurrency(currency)
                        .setAmount(Money.toMinorUnits(line.amountMicros(), config.minorUnitDigits()))
                        .setDescription(description(line))
                        .setMetadata(Map.of("tollgate_invoice_id", invoiceId, "line_no", Integer.toString(line.lineNo()),
                                "amount_micros", Long.toString(line.amountMicros()), "event_digest", line.eventDigest()))
                        .build(), key(invoiceId + ":line:" + line.lineNo()));
                store.saveStripeLineItem(invoiceId, line.lineNo(), item.getId());
            }
            pushCredits(invoice, customerId, stripeInvoiceId, currency);
            Invoice finalized = finalizeInvoice(invoiceId, stripeInvoiceId);
            store.syncSucceeded(invoiceId, finalized.getTotal());
            registry.counter("tollgate.stripe.sync", "outcome", "synced").increment();
            LOG.info("invoice {} synced to Stripe as {} (total {} minor units)", invoiceId, stripeInvoiceId, finalized.getTotal());
        } catch (StripeException e) {
            String error = "Stripe answered " + e.getStatusCode() + (e.getCode() == null ? "" : " " + e.getCode()) + ": "
                    + (e.getStripeError() == null ? e.getClass().getSimpleName() : e.getStripeError().getMessage());
            store.syncFailed(invoiceId, error);
            registry.counter("tollgate.stripe.sync", "outcome", "failed").increment();
            LOG.warn("Stripe sync of invoice {} failed: {}", invoiceId, error);
            throw new BillingException.Upstream("stripe_sync_failed", error);
        } catch (RuntimeException e) {
            store.syncFailed(invoiceId, e.getClass().getSimpleName());
            throw e;
        }
    }

    /**
     * The credits applied (ADR 0028) as negative invoice items after the lines, so that Stripe charges only the amount due: the
     * lines rounded to minor units one by one, less the credits, make the amount due in minor units ({@link InvoiceCredits#minorUnits}).
     */
    private void pushCredits(InvoiceView invoice, String customerId, String stripeInvoiceId, String currency) throws StripeException {
        if (invoice.credits() == null || invoice.credits().isEmpty()) {
            return;
        }
        long linesMinor = invoice.lines().stream().mapToLong(l -> Money.toMinorUnits(l.amountMicros(), config.minorUnitDigits())).sum();
        long dueMinor = Money.toMinorUnits(invoice.amountDueMicros(), config.minorUnitDigits());
        long[] minor = InvoiceCredits.minorUnits(invoice.credits().stream()
                .map(c -> new InvoiceCredits.Credit(c.grantId(), c.amountMicros())).toList(), linesMinor, dueMinor);
        Map<Integer, String> pushed = store.stripeCreditItems(invoice.invoiceId());
        for (int i = 0; i < minor.length; i++) {
            InvoiceView.Credit credit = invoice.credits().get(i);
            if (minor[i] == 0 || pushed.containsKey(credit.creditNo())) {
                continue;
            }
            var metadata = new HashMap<>(Map.of("tollgate_invoice_id", invoice.invoiceId(), "credit_no", Integer.toString(credit.creditNo()),
                    "amount_micros", Long.toString(credit.amountMicros())));
            if (credit.grantId() != null) {
                metadata.put("grant_id", credit.grantId());
            }
            InvoiceItem item = client.v1().invoiceItems().create(InvoiceItemCreateParams.builder()
                    .setCustomer(customerId).setInvoice(stripeInvoiceId).setCurrency(currency)
                    .setAmount(-minor[i])
                    .setDescription(credit.grantId() == null ? "Prepaid usage charged to the credit balance (paid by the next credit)"
                            : "Prepaid credit applied (grant " + credit.grantId() + ")")
                    .setMetadata(metadata)
                    .build(), key(invoice.invoiceId() + ":credit:" + credit.creditNo()));
            store.saveStripeCreditItem(invoice.invoiceId(), credit.creditNo(), item.getId());
        }
    }

    private Invoice finalizeInvoice(String invoiceId, String stripeInvoiceId) throws StripeException {
        try {
            return client.v1().invoices().finalizeInvoice(stripeInvoiceId, key(invoiceId + ":finalize"));
        } catch (StripeException e) {
            if (e.getStatusCode() == null || e.getStatusCode() != 400) {
                throw e;
            }
            Invoice current = client.v1().invoices().retrieve(stripeInvoiceId);
            if ("draft".equals(current.getStatus())) {
                throw e;
            }
            LOG.info("Stripe reports invoice {} ({}) already finalized: counted as delivered", invoiceId, stripeInvoiceId);
            return current;
        }
    }

    /** The tenant's Stripe Customer, created (once, whoever asks first) if it has none yet. */
    public String customer(String tenantId) throws StripeException {
        var known = store.stripeCustomer(tenantId);
        if (known.isPresent()) {
            return known.get();
        }
        Customer created = client.v1().customers().create(CustomerCreateParams.builder().setName(tenantId)
                .setMetadata(Map.of("tenant_id", tenantId)).build(), key("customer:" + tenantId));
        return store.saveStripeCustomer(tenantId, created.getId());
    }

    private static String description(InvoiceView.Line line) {
        String unit = switch (PriceUnit.valueOf(line.tokenKind())) {
            case INPUT -> "input tokens";
            case CACHED_INPUT -> "cached input tokens";
            case CACHE_WRITE_INPUT -> "cache-write input tokens";
            case OUTPUT -> "output tokens";
            case REASONING -> "reasoning tokens";
            case AUDIO_SECONDS -> "audio seconds";
            case DOCUMENTS -> "documents";
            case REQUESTS -> "requests";
        };
        return (line.adjustsPeriod() == null ? "" : "Adjustment for " + line.adjustsPeriod() + ": ") + line.model() + " " + unit + " x "
                + line.quantity() + " at " + Money.format(line.unitPriceMicrosPerMillion()) + " per million (" + line.priceListId() + ")";
    }

    /** Idempotency keys: {@code tollgate:} plus what the call creates, stable across retries and re-syncs. */
    /** Request options with Tollgate's idempotency key for {@code what}. */
    public static RequestOptions key(String what) {
        return RequestOptions.builder().setIdempotencyKey("tollgate:" + what).build();
    }
}
