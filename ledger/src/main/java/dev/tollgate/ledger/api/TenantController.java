package dev.tollgate.ledger.api;

import dev.tollgate.ledger.config.LedgerProperties;
import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.publish.ReadModel;
import dev.tollgate.ledger.security.AccessPolicy;
import dev.tollgate.ledger.security.AccessPolicy.Action;
import dev.tollgate.service.security.Caller;
import dev.tollgate.service.webhook.WebhookTargets;
import dev.tollgate.ledger.tenant.TenantCommands;
import dev.tollgate.schemas.key.WebhookSecrets;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.TenantState;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** Tenants: onboarding, suspension, plan and limits. */
@RestController
@RequestMapping("/admin/v1/tenants")
public class TenantController {
    private final CommandSender commands;
    private final ReadModel readModel;
    private final LedgerProperties properties;
    /** Operators of private deployments may allow webhooks to internal addresses (SSRF protection otherwise). */
    @Value("${tollgate.webhooks.allow-private-targets:false}")
    private boolean allowPrivateWebhooks;

    public TenantController(CommandSender commands, ReadModel readModel, LedgerProperties properties) {
        this.commands = commands;
        this.readModel = readModel;
        this.properties = properties;
    }

    /** {@code planId} optional; zone defaults to UTC, currency to USD. */
    public record CreateTenantRequest(String tenantId, String name, String billingTimeZone, String currency, String planId) {}

    public record TenantCreatedResponse(String tenantId, String name, String billingTimeZone, String currency,
                                        String planId, String status) {}

    public record ReasonRequest(String reason) {}

    public record StatusResponse(String tenantId, String status) {}

    @PostMapping
    public ResponseEntity<TenantCreatedResponse> create(@AuthenticationPrincipal Jwt jwt, @RequestBody CreateTenantRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.CREATE_TENANT);
        String zone = request.billingTimeZone() == null ? "UTC" : request.billingTimeZone();
        String currency = request.currency() == null ? "USD" : request.currency().toUpperCase(Locale.ROOT);
        commands.send(caller, new TenantCommands.CreateTenant(request.tenantId(), request.name(), zone, currency));
        if (request.planId() != null) {
            commands.send(caller, new TenantCommands.AssignPlan(request.tenantId(), request.planId(), null));
        }
        return ResponseEntity.created(URI.create("/admin/v1/tenants/" + request.tenantId()))
                .body(new TenantCreatedResponse(request.tenantId(), request.name().strip(), zone, currency, request.planId(), "ACTIVE"));
    }

    @GetMapping
    public List<TenantState> list(@AuthenticationPrincipal Jwt jwt, @RequestParam(defaultValue = "100") int limit,
                                  @RequestParam(defaultValue = "0") int offset) {
        AccessPolicy.check(Caller.of(jwt), Action.LIST_TENANTS);
        if (limit < 1 || limit > 1000 || offset < 0) {
            throw new LedgerException.Invalid("invalid_page", "limit must be 1-1000 and offset >= 0");
        }
        return readModel.tenants(limit, offset);
    }

    @GetMapping("/{tenantId}")
    public TenantState get(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        AccessPolicy.check(Caller.of(jwt), Action.READ_TENANT, tenantId);
        return readModel.tenant(tenantId).orElseThrow(() -> new LedgerException.NotFound("not_found", "no such resource"));
    }

    @PostMapping("/{tenantId}:suspend")
    public StatusResponse suspend(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId, @RequestBody ReasonRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.SUSPEND_TENANT, tenantId);
        commands.send(caller, new TenantCommands.SuspendTenant(tenantId, request.reason()));
        return new StatusResponse(tenantId, "SUSPENDED");
    }

    @PostMapping("/{tenantId}:reinstate")
    public StatusResponse reinstate(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.SUSPEND_TENANT, tenantId);
        commands.send(caller, new TenantCommands.ReinstateTenant(tenantId));
        return new StatusResponse(tenantId, "ACTIVE");
    }

    @PutMapping("/{tenantId}/limits")
    public Limits setLimits(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId, @RequestBody Limits limits) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.SET_TENANT_LIMITS, tenantId);
        commands.send(caller, new TenantCommands.SetLimits(tenantId, null, limits));
        return limits;
    }

    public record WebhookRequest(String url) {}

    /** {@code signingSecret} verifies the alerts' HMAC signatures; shown only in this response. */
    public record WebhookResponse(String tenantId, String url, int secretVersion, String signingSecret) {
        @Override
        public String toString() {
            return "WebhookResponse[" + tenantId + ", v" + secretVersion + "]";
        }
    }

    /** Configures the webhook and rotates its signing secret (every call issues a new one). */
    @PutMapping("/{tenantId}/webhook")
    public WebhookResponse webhook(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId, @RequestBody WebhookRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.CONFIGURE_WEBHOOK, tenantId);
        String refused = request.url() == null ? null : WebhookTargets.refusal(request.url(), allowPrivateWebhooks);
        if (refused != null) {
            throw new LedgerException.Invalid("invalid_webhook_url", "webhook url refused: " + refused);
        }
        int version = commands.send(caller, new TenantCommands.ConfigureWebhook(tenantId, request.url()));
        String secret = WebhookSecrets.derive(properties.webhookMasterKey().getBytes(StandardCharsets.UTF_8),
                tenantId, version);
        return new WebhookResponse(tenantId, request.url(), version, secret);
    }

    public record AssignPlanRequest(String planId, Instant effectiveFrom) {}

    @PutMapping("/{tenantId}/plan")
    public ResponseEntity<Void> assignPlan(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                           @RequestBody AssignPlanRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.SET_TENANT_LIMITS, tenantId);
        commands.send(caller, new TenantCommands.AssignPlan(tenantId, request.planId(), request.effectiveFrom()));
        return ResponseEntity.status(HttpStatus.NO_CONTENT).build();
    }
}
