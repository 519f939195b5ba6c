package dev.tollgate.projector.api;

import dev.tollgate.projector.invoice.InvoiceStore;
import dev.tollgate.projector.invoice.InvoiceView;
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

    public BillingController(InvoiceStore invoices, UsageQueries usage, StripeSync stripe, Clock clock) {
        this.clock = clock;
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

    @GetMapping("/tenants/{tenantId}/invoices")
    public List<InvoiceView> invoices(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.READ_INVOICES, tenantId);
        return invoices.invoices(tenantId);
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
