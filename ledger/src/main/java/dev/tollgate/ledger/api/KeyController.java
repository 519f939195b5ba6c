package dev.tollgate.ledger.api;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.domain.UniqueClaims;
import dev.tollgate.ledger.publish.ReadModel;
import dev.tollgate.ledger.security.AccessPolicy;
import dev.tollgate.ledger.security.AccessPolicy.Action;
import dev.tollgate.service.security.Caller;
import dev.tollgate.ledger.tenant.Tenant;
import dev.tollgate.ledger.tenant.TenantCommands;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * API keys. The secret is generated here, returned in the response exactly once, and only its
 * hash is sent to the ledger; nothing logs it.
 */
@RestController
public class KeyController {
    /** Request attribute that tells the idempotency filter a response carries a secret. */
    public static final String SECRET_IN_RESPONSE = "tollgate.secretInResponse";

    private final CommandSender commands;
    private final ReadModel readModel;
    private final UniqueClaims claims;

    public KeyController(CommandSender commands, ReadModel readModel, UniqueClaims claims) {
        this.commands = commands;
        this.readModel = readModel;
        this.claims = claims;
    }

    public record IssueKeyRequest(String name, List<String> scopes, List<String> allowedModels, Limits limits, Instant expiresAt) {}

    /** {@code apiKey} is the full bearer token, shown only in this response. */
    public record IssuedKey(String keyId, String tenantId, String name, String apiKey, Instant expiresAt) {
        @Override
        public String toString() {
            return "IssuedKey[" + keyId + "]";
        }
    }

    public record RotateKeyRequest(Long gracePeriodSeconds) {}

    public record RotatedKey(String keyId, String apiKey, Instant previousKeyValidUntil) {
        @Override
        public String toString() {
            return "RotatedKey[" + keyId + "]";
        }
    }

    public record RevokeKeyRequest(String reason) {}

    /** A key as the API shows it: never a hash. */
    public record KeyView(String keyId, String tenantId, String name, String status, List<String> scopes,
                          List<String> allowedModels, Limits limits, Instant expiresAt, Instant previousSecretValidUntil,
                          Instant updatedAt) {
        static KeyView of(KeyState key) {
            Instant grace = key.secrets().stream().map(KeyState.Secret::validUntil).filter(Objects::nonNull)
                    .findFirst().orElse(null);
            return new KeyView(key.keyId(), key.tenantId(), key.name(), key.status().name(), key.scopes(),
                    key.allowedModels(), key.limits(), key.expiresAt(), grace, key.updatedAt());
        }
    }

    @PostMapping("/admin/v1/tenants/{tenantId}/keys")
    public ResponseEntity<IssuedKey> issue(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                                           @RequestBody IssueKeyRequest request, HttpServletRequest http) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.ISSUE_KEY, tenantId);
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        commands.send(caller, new TenantCommands.IssueKey(tenantId, key.keyId(), request.name(), key.hash(),
                request.scopes(), request.allowedModels(), request.limits(), request.expiresAt()));
        http.setAttribute(SECRET_IN_RESPONSE, Boolean.TRUE);
        return ResponseEntity.created(URI.create("/admin/v1/keys/" + key.keyId()))
                .body(new IssuedKey(key.keyId(), tenantId, request.name(), key.token(), request.expiresAt()));
    }

    @GetMapping("/admin/v1/tenants/{tenantId}/keys")
    public List<KeyView> list(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId) {
        AccessPolicy.check(Caller.of(jwt), Action.LIST_KEYS, tenantId);
        return readModel.keysOf(tenantId).stream().map(KeyView::of).toList();
    }

    @GetMapping("/admin/v1/keys/{keyId}")
    public KeyView get(@AuthenticationPrincipal Jwt jwt, @PathVariable String keyId) {
        String tenantId = tenantOf(Caller.of(jwt), keyId, Action.LIST_KEYS);
        return readModel.key(keyId).filter(k -> k.tenantId().equals(tenantId)).map(KeyView::of)
                .orElseThrow(() -> new LedgerException.NotFound("not_found", "no such resource"));
    }

    @PostMapping("/admin/v1/keys/{keyId}:rotate")
    public RotatedKey rotate(@AuthenticationPrincipal Jwt jwt, @PathVariable String keyId,
                             @RequestBody(required = false) RotateKeyRequest request, HttpServletRequest http) {
        Caller caller = Caller.of(jwt);
        String tenantId = tenantOf(caller, keyId, Action.ROTATE_KEY);
        Duration grace = Duration.ofSeconds(request == null || request.gracePeriodSeconds() == null ? 0 : request.gracePeriodSeconds());
        ApiKeys.NewKey key = ApiKeys.issue(keyId);
        commands.send(caller, new TenantCommands.RotateKey(tenantId, keyId, key.hash(), grace));
        http.setAttribute(SECRET_IN_RESPONSE, Boolean.TRUE);
        return new RotatedKey(keyId, key.token(), Instant.now().plus(grace));
    }

    @PostMapping("/admin/v1/keys/{keyId}:revoke")
    public KeyStatusResponse revoke(@AuthenticationPrincipal Jwt jwt, @PathVariable String keyId, @RequestBody RevokeKeyRequest request) {
        Caller caller = Caller.of(jwt);
        String tenantId = tenantOf(caller, keyId, Action.REVOKE_KEY);
        commands.send(caller, new TenantCommands.RevokeKey(tenantId, keyId, request.reason()));
        return new KeyStatusResponse(keyId, "REVOKED");
    }

    public record KeyStatusResponse(String keyId, String status) {}

    @PutMapping("/admin/v1/keys/{keyId}/limits")
    public Limits setLimits(@AuthenticationPrincipal Jwt jwt, @PathVariable String keyId, @RequestBody Limits limits) {
        Caller caller = Caller.of(jwt);
        String tenantId = tenantOf(caller, keyId, Action.SET_KEY_LIMITS);
        commands.send(caller, new TenantCommands.SetLimits(tenantId, keyId, limits));
        return limits;
    }

    /** The key's tenant, after checking the caller may act on it; unknown keys are 404. */
    private String tenantOf(Caller caller, String keyId, Action action) {
        String tenantId = claims.owner(Tenant.KEY_SCOPE, keyId)
                .orElseThrow(() -> new LedgerException.NotFound("not_found", "no such resource"));
        AccessPolicy.check(caller, action, tenantId);
        return tenantId;
    }
}
