package dev.tollgate.projector.api;

import dev.tollgate.projector.alert.AlertWebhooks;
import dev.tollgate.projector.credit.CreditPurchases;
import dev.tollgate.projector.deadletter.DeadLetters;
import dev.tollgate.projector.invoice.InvoiceStore;
import dev.tollgate.projector.invoice.InvoiceView;
import dev.tollgate.projector.quota.BalanceQueries;
import dev.tollgate.projector.stripe.StripeSync;
import dev.tollgate.projector.usage.UsageQueries;
import dev.tollgate.projector.usage.UsageRange;
import dev.tollgate.projector.usage.UsageReport;
import dev.tollgate.service.security.Caller;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.util.List;
import java.util.Locale;

/** The billing API of ARCHITECTURE.md: live usage, invoices, Stripe sync. */
@RestController
@RequestMapping("/billing/v1")
public class BillingController {
    private final InvoiceStore invoices;
    private final UsageQueries usage;
    private final StripeSync stripe;
    private final Clock clock;
    private final AlertWebhooks webhooks;
    private final DeadLetters deadLetters;
    private final BalanceQueries balances;
    private final CreditPurchases purchases;

    /** The most invoices one page across tenants holds. */
    static final int MAX_INVOICES_PAGE = 500;
    /** How many of the newest dead letters a summary lists. */
    static final int LATEST_DEAD_LETTERS = 20;

    public BillingController(InvoiceStore invoices, UsageQueries usage, StripeSync stripe, Clock clock, AlertWebhooks webhooks,
                             DeadLetters deadLetters, BalanceQueries balances, CreditPurchases purchases) {
        this.balances = balances;
        this.purchases = purchases;
        this.clock = clock;
        this.webhooks = webhooks;
        this.deadLetters = deadLetters;
        this.invoices = invoices;
        this.usage = usage;
        this.stripe = stripe;
    }

    /**
     * Live usage per window, key and model. {@code from}/{@code to} are instants or dates (in the
     * tenant's billing zone), {@code to} exclusive; by default the current billing month so far.
     */
    @GetMapping("/tenants/{tenantId}/usage")
    public ResponseEntity<?> usage(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                   @RequestParam(required = false) String from, @RequestParam(required = false) String to,
                                   @RequestParam(defaultValue = "day") String granularity,
                                   @RequestHeader(value = "Authorization", required = false) String authorization,
                                   @RequestHeader(value = UsageQueries.FORWARDED_HEADER, required = false) String forwarded,
                                   HttpServletRequest request) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.READ_USAGE, tenantId);
        UsageQueries.Granularity g = granularity(granularity);
        String owner = usage.remoteOwner(tenantId);
        if (owner != null) {
            if (forwarded != null) {
                throw new BillingException.Unavailable("usage_unavailable", "ownership of this tenant's usage is moving; retry");
            }
            String query = request.getQueryString();
            UsageQueries.Forwarded answer = usage.forward(owner, request.getRequestURI() + (query == null ? "" : "?" + query), authorization);
            return ResponseEntity.status(answer.status()).contentType(MediaType.parseMediaType(answer.contentType())).body(answer.body());
        }
        UsageRange range = UsageRange.of(from, to, g, usage.zoneOf(tenantId), clock.instant());
        UsageReport report = usage.local(tenantId, g, range.from(), range.to());
        return ResponseEntity.ok(report);
    }

    /**
     * A prepaid or hybrid tenant's balance: every grant with what usage burned of it and what is left, the unfunded
     * usage, and what usage may still spend now (ADR 0027). Answered by the instance that owns the tenant's usage.
     */
    @GetMapping("/tenants/{tenantId}/balance")
    public ResponseEntity<?> balance(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                     @RequestHeader(value = "Authorization", required = false) String authorization,
                                     @RequestHeader(value = UsageQueries.FORWARDED_HEADER, required = false) String forwarded,
                                     HttpServletRequest request) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.READ_BALANCE, tenantId);
        String owner = usage.remoteOwner(tenantId);
        if (owner != null) {
            if (forwarded != null) {
                throw new BillingException.Unavailable("balance_unavailable", "ownership of this tenant's usage is moving; retry");
            }
            UsageQueries.Forwarded answer = usage.forward(owner, request.getRequestURI(), authorization);
            return ResponseEntity.status(answer.status()).contentType(MediaType.parseMediaType(answer.contentType())).body(answer.body());
        }
        return ResponseEntity.ok(balances.local(tenantId));
    }

    /** {@code amountMicros} of the tenant's currency; {@code successUrl}: where Stripe sends the payer back. */
    public record PurchaseRequest(Long amountMicros, String successUrl) {}

    /** Starts a credit purchase: a Stripe Checkout Session to pay at {@code checkoutUrl}; the credit is granted when Stripe confirms it. */
    @PostMapping("/tenants/{tenantId}/credit-purchases")
    public ResponseEntity<CreditPurchases.Checkout> buyCredit(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                                              @RequestBody PurchaseRequest request) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.BUY_CREDIT, tenantId);
        if (request.amountMicros() == null) {
            throw new BillingException.Invalid("missing_amount", "amountMicros is required (micro-units of the tenant's currency)");
        }
        CreditPurchases.Checkout checkout = purchases.start(balances.tenant(tenantId), request.amountMicros(), request.successUrl());
        return ResponseEntity.status(201).body(checkout);
    }

    @GetMapping("/tenants/{tenantId}/invoices")
    public List<InvoiceView> invoices(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.READ_INVOICES, tenantId);
        return invoices.invoices(tenantId);
    }

    /** Every tenant's invoice of one period ({@code YYYY-MM}), by tenant, without lines: finance's and auditors' view. */
    @GetMapping("/invoices")
    public List<InvoiceView> invoicesOfPeriod(@AuthenticationPrincipal Jwt jwt, @RequestParam String period,
                                              @RequestParam(defaultValue = "100") int limit, @RequestParam(defaultValue = "0") int offset) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.LIST_ALL_INVOICES, null);
        if (!period.matches("\\d{4}-(0[1-9]|1[0-2])")) {
            throw new BillingException.Invalid("invalid_period", "period must be YYYY-MM");
        }
        if (limit < 1 || limit > MAX_INVOICES_PAGE || offset < 0) {
            throw new BillingException.Invalid("invalid_page", "limit must be 1-" + MAX_INVOICES_PAGE + " and offset >= 0");
        }
        return invoices.invoicesOfPeriod(period, limit, offset);
    }

    /** Sends a signed test event to the tenant's webhook now and answers what came of it. */
    @PostMapping("/tenants/{tenantId}/webhook:test")
    public AlertWebhooks.TestDelivery testWebhook(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.TEST_WEBHOOK, tenantId);
        return webhooks.sendTest(tenantId)
                .orElseThrow(() -> new BillingException.NotFound("no_webhook", "the tenant has no webhook configured"));
    }

    /** How many records consumers refused ({@code deadletter.v1}) and the newest of them: where from and why, never their values. */
    @GetMapping("/dead-letters")
    public DeadLetters.Summary deadLetters(@AuthenticationPrincipal Jwt jwt) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.READ_DEAD_LETTERS, null);
        return deadLetters.summary(LATEST_DEAD_LETTERS);
    }

    @GetMapping("/invoices/{invoiceId}")
    public InvoiceView invoice(@AuthenticationPrincipal Jwt jwt, @PathVariable String invoiceId) {
        Caller caller = Caller.of(jwt);
        String tenantId = invoices.tenantOf(invoiceId).orElse(null);
        BillingAccess.check(caller, BillingAccess.Action.READ_INVOICES, tenantId);
        return invoices.invoice(invoiceId).orElseThrow(() -> new BillingException.NotFound("not_found", "no such resource"));
    }

    @PostMapping("/invoices/{invoiceId}:sync-stripe")
    public InvoiceView syncStripe(@AuthenticationPrincipal Jwt jwt, @PathVariable String invoiceId) {
        Caller caller = Caller.of(jwt);
        String tenantId = invoices.tenantOf(invoiceId).orElse(null);
        BillingAccess.check(caller, BillingAccess.Action.SYNC_STRIPE, tenantId);
        if (tenantId == null) {
            throw new BillingException.NotFound("not_found", "no such resource");
        }
        stripe.sync(invoiceId);
        return invoices.invoice(invoiceId).orElseThrow();
    }

    private static UsageQueries.Granularity granularity(String value) {
        try {
            return UsageQueries.Granularity.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BillingException.Invalid("invalid_granularity", "granularity must be minute, day or month");
        }
    }
}
