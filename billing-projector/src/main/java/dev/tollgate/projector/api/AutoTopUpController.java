package dev.tollgate.projector.api;

import dev.tollgate.projector.credit.AutoTopUps;
import dev.tollgate.projector.quota.BalanceQueries;
import dev.tollgate.service.security.Caller;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A tenant's automatic top-up (ADR 0027): {@code PUT} saves the threshold, the amount and the Stripe payment method to
 * charge off-session; {@code GET} shows it with its last attempts; {@code DELETE} turns it off. The tenant's admin, billing
 * and platform admins set it; whoever may read the balance reads it.
 */
@RestController
@RequestMapping("/billing/v1/tenants/{tenantId}/auto-top-up")
public class AutoTopUpController {
    /** Micro-units of the tenant's currency; {@code paymentMethodId}: a Stripe PaymentMethod (pm_...) of the tenant's. */
    public record Request(Long thresholdMicros, Long amountMicros, String paymentMethodId) {}

    private final AutoTopUps topUps;
    private final BalanceQueries balances;

    public AutoTopUpController(AutoTopUps topUps, BalanceQueries balances) {
        this.topUps = topUps;
        this.balances = balances;
    }

    @PutMapping
    public AutoTopUps.Setting configure(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId, @RequestBody Request request) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.CONFIGURE_AUTO_TOP_UP, tenantId);
        if (request.thresholdMicros() == null || request.amountMicros() == null) {
            throw new BillingException.Invalid("missing_amount", "thresholdMicros and amountMicros are required (micro-units of the tenant's currency)");
        }
        return topUps.configure(balances.tenant(tenantId), request.thresholdMicros(), request.amountMicros(), request.paymentMethodId());
    }

    @GetMapping
    public AutoTopUps.Setting setting(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.READ_BALANCE, tenantId);
        return topUps.setting(tenantId).orElseThrow(() -> new BillingException.NotFound("not_found", "no automatic top-up is set"));
    }

    @DeleteMapping
    public ResponseEntity<Void> disable(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        BillingAccess.check(Caller.of(jwt), BillingAccess.Action.CONFIGURE_AUTO_TOP_UP, tenantId);
        if (!topUps.disable(tenantId)) {
            throw new BillingException.NotFound("not_found", "no automatic top-up is set");
        }
        return ResponseEntity.noContent().build();
    }
}
