package dev.tollgate.ledger.api;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.publish.ReadModel;
import dev.tollgate.ledger.publish.ReadModel.CreditGrantView;
import dev.tollgate.ledger.security.AccessPolicy;
import dev.tollgate.ledger.security.AccessPolicy.Action;
import dev.tollgate.ledger.tenant.TenantCommands;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.service.security.Caller;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.time.Instant;
import java.util.List;

/**
 * Prepaid credit (ADR 0027): grants and voids (billing, platform-admin), the tenant's grants
 * (a tenant-admin sees its own), and the tenant's billing mode. Every change is a ledger event;
 * nothing is edited.
 */
@RestController
@RequestMapping("/admin/v1/tenants/{tenantId}")
public class CreditController {

    private final CommandSender commands;
    private final ReadModel readModel;

    public CreditController(CommandSender commands, ReadModel readModel) {
        this.commands = commands;
        this.readModel = readModel;
    }

    /** {@code priority} 0-100, lower burns first (default 50); {@code models} empty: every model; {@code endpoints} empty: every endpoint. */
    public record GrantRequest(Long amountMicros, CreditSource source, String reason, Instant expiresAt, Integer priority,
                               List<String> models, List<Endpoint> endpoints, String externalId) {}

    public record GrantResponse(String grantId, String tenantId, long amountMicros, CreditSource source) {}

    public record VoidRequest(String reason) {}

    public record BillingModeRequest(BillingMode mode, Instant effectiveFrom) {}

    public record BillingModeResponse(String tenantId, BillingMode mode, Instant effectiveFrom) {}

    @PostMapping("/credit-grants")
    public ResponseEntity<GrantResponse> grant(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                               @RequestBody GrantRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.GRANT_CREDIT, tenantId);
        if (request.amountMicros() == null) {
            throw new LedgerException.Invalid("missing_amountMicros", "amountMicros is required (micro-units of the tenant's currency)");
        }
        String grantId = commands.send(caller, new TenantCommands.GrantCredit(tenantId, TenantCommands.GrantCredit.newId(), request.amountMicros(),
                request.source(), request.reason(), request.expiresAt(), request.priority(), request.models(), request.endpoints(), request.externalId()));
        return ResponseEntity.created(URI.create("/admin/v1/tenants/" + tenantId + "/credit-grants/" + grantId))
                .body(new GrantResponse(grantId, tenantId, request.amountMicros(), request.source()));
    }

    @GetMapping("/credit-grants")
    public List<CreditGrantView> grants(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        AccessPolicy.check(Caller.of(jwt), Action.READ_CREDITS, tenantId);
        if (readModel.tenant(tenantId).isEmpty()) {
            throw new LedgerException.NotFound("not_found", "no such resource");
        }
        return readModel.creditGrants(tenantId);
    }

    @PostMapping("/credit-grants/{grantId}:void")
    public ResponseEntity<Void> voidGrant(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId, @PathVariable String grantId,
                                          @RequestBody VoidRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.GRANT_CREDIT, tenantId);
        commands.send(caller, new TenantCommands.VoidCredit(tenantId, grantId, request.reason()));
        return ResponseEntity.status(HttpStatus.NO_CONTENT).build();
    }

    @PutMapping("/billing-mode")
    public BillingModeResponse billingMode(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                           @RequestBody BillingModeRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.SET_BILLING_MODE, tenantId);
        Instant effectiveFrom = commands.send(caller, new TenantCommands.SetBillingMode(tenantId, request.mode(), request.effectiveFrom()));
        return new BillingModeResponse(tenantId, request.mode(), effectiveFrom);
    }

    /** Ends the tenant's own mode: from {@code effectiveFrom} (default now) on it pays as its plan says ({@code mode} null). */
    @DeleteMapping("/billing-mode")
    public BillingModeResponse followPlanMode(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                              @RequestParam(required = false) Instant effectiveFrom) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.SET_BILLING_MODE, tenantId);
        Instant from = commands.send(caller, new TenantCommands.ClearBillingMode(tenantId, effectiveFrom));
        return new BillingModeResponse(tenantId, null, from);
    }
}
