package dev.tollgate.ledger.tenant;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.tollgate.ledger.domain.Clock;
import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.domain.UniqueClaims;
import dev.tollgate.ledger.tenant.TenantCommands.AssignPlan;
import dev.tollgate.ledger.tenant.TenantCommands.ConfigureWebhook;
import dev.tollgate.ledger.tenant.TenantCommands.CreateTenant;
import dev.tollgate.ledger.tenant.TenantCommands.ExpireKey;
import dev.tollgate.ledger.tenant.TenantCommands.IssueKey;
import dev.tollgate.ledger.tenant.TenantCommands.ReinstateTenant;
import dev.tollgate.ledger.tenant.TenantCommands.RevokeKey;
import dev.tollgate.ledger.tenant.TenantCommands.RotateKey;
import dev.tollgate.ledger.tenant.TenantCommands.SetLimits;
import dev.tollgate.ledger.tenant.TenantCommands.SuspendTenant;
import dev.tollgate.ledger.tenant.TenantCommands.GrantCredit;
import dev.tollgate.ledger.tenant.TenantCommands.SetBillingMode;
import dev.tollgate.ledger.tenant.TenantCommands.ClearBillingMode;
import dev.tollgate.ledger.tenant.TenantCommands.RefundPayment;
import dev.tollgate.ledger.tenant.TenantCommands.VoidCredit;
import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.key.KeyScopes;
import dev.tollgate.schemas.ledger.KeyExpired;
import dev.tollgate.schemas.ledger.KeyIssued;
import dev.tollgate.schemas.ledger.KeyRevoked;
import dev.tollgate.schemas.ledger.KeyRotated;
import dev.tollgate.schemas.ledger.LimitsSet;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.ledger.TenantReinstated;
import dev.tollgate.schemas.ledger.TenantSuspended;
import dev.tollgate.schemas.ledger.WebhookConfigured;
import dev.tollgate.schemas.usage.Endpoint;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Currency;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A tenant and its API keys. Keys live inside the tenant so that "no key for a suspended tenant"
 * is checked in one consistent place; a tenant's history (including every key event) is one stream,
 * snapshotted because tenants live for years.
 */
@Aggregate(snapshotTriggerDefinition = "tenantSnapshotTrigger", cache = "tenantCache")
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class Tenant {
    /** Tenant ids: lower-case DNS-label style; never starting with '_' (reserved: _platform, _anonymous). */
    static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9-]{1,62}");
    /** Longest grace period a rotation may give the old secret. */
    static final Duration MAX_GRACE = Duration.ofDays(30);
    static final int MAX_LIST_ITEMS = 100;

    @AggregateIdentifier
    private String tenantId;
    private boolean suspended;
    /** The tenant's currency (null in snapshots taken before credits existed: then not checked). */
    private String currency;
    private final Map<String, KeyEntry> keys = new HashMap<>();
    private int webhookSecretVersion;
    /** Credit grants by id: true once voided. */
    private final Map<String, Boolean> grants = new HashMap<>();
    /** Grant ids by the payment that bought them (a payment grants once). */
    private final Map<String, String> grantsByPayment = new HashMap<>();
    /** Each grant's amount as granted, and as partial refunds left it (absent: never reduced). */
    private final Map<String, Long> grantedAmounts = new HashMap<>();
    private final Map<String, Long> reducedAmounts = new HashMap<>();
    /** The largest single grant: a typo of a few zeros must not mint a fortune (10^15 micro-units, a billion units). */
    static final long MAX_GRANT_MICROS = 1_000_000_000_000_000L;
    static final Pattern GRANT_ID = Pattern.compile("cg_[0-9a-f]{32}");

    /** What the aggregate remembers of a key: enough to enforce its invariants. */
    record KeyEntry(KeyStatus status, Instant expiresAt) {}

    enum KeyStatus { ACTIVE, REVOKED, EXPIRED }

    protected Tenant() {
        // for Axon
    }

    @CommandHandler
    public Tenant(CreateTenant command, UniqueClaims claims) {
        if (command.tenantId() == null || !TENANT_ID.matcher(command.tenantId()).matches()) {
            throw new LedgerException.Invalid("invalid_tenant_id",
                    "tenantId must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit");
        }
        String name = requireText(command.name(), "name", 200);
        requireZone(command.billingTimeZone());
        String currency = requireCurrency(command.currency());
        claims.claim("tenant-name", name.toLowerCase(Locale.ROOT), command.tenantId());
        apply(new TenantCreated(command.tenantId(), name, command.billingTimeZone(), currency));
    }

    @CommandHandler
    public void handle(SuspendTenant command) {
        if (suspended) {
            throw new LedgerException.Conflict("tenant_already_suspended", "tenant " + tenantId + " is already suspended");
        }
        apply(new TenantSuspended(tenantId, requireText(command.reason(), "reason", 500)));
    }

    @CommandHandler
    public void handle(ReinstateTenant command) {
        if (!suspended) {
            throw new LedgerException.Conflict("tenant_not_suspended", "tenant " + tenantId + " is not suspended");
        }
        apply(new TenantReinstated(tenantId));
    }

    @CommandHandler
    public void handle(AssignPlan command, PlanDirectory plans) {
        String planId = requireText(command.planId(), "planId", 100);
        if (!plans.exists(planId)) {
            throw new LedgerException.Invalid("unknown_plan", "plan " + planId + " does not exist");
        }
        // "Now" to the millisecond: the event store keeps the event's own time to the millisecond, and a plan
        // assigned without a date must already be in force at that time (ReadModel.assignPlan).
        Instant effectiveFrom = command.effectiveFrom() == null ? Clock.now().truncatedTo(ChronoUnit.MILLIS) : command.effectiveFrom();
        apply(new PlanAssigned(tenantId, planId, effectiveFrom));
    }

    @CommandHandler
    public void handle(SetLimits command) {
        if (command.limits() == null) {
            throw new LedgerException.Invalid("missing_limits", "limits are required");
        }
        if (command.keyId() != null) {
            requireKey(command.keyId());
            if (command.limits().queueWeight() != null) {
                // The fair share is the tenant's among tenants: a key cannot widen it (ADR 0023).
                throw new LedgerException.Invalid("key_queue_weight", "queueWeight is set on a tenant or its plan, not on a key");
            }
        }
        apply(new LimitsSet(tenantId, command.keyId(), command.limits()));
    }

    /** Claim scope mapping every key id to its tenant, readable at once by the admin API. */
    public static final String KEY_SCOPE = "api-key";

    @CommandHandler
    public void handle(IssueKey command, UniqueClaims claims) {
        if (suspended) {
            throw new LedgerException.Conflict("tenant_suspended", "tenant " + tenantId + " is suspended: no new keys");
        }
        if (!ApiKeys.isKeyId(command.keyId())) {
            throw new LedgerException.Invalid("invalid_key_id", "not a key id");
        }
        if (keys.containsKey(command.keyId())) {
            throw new LedgerException.Conflict("key_exists", "key " + command.keyId() + " exists");
        }
        if (command.secretHash() == null) {
            throw new LedgerException.Invalid("missing_secret_hash", "secretHash is required");
        }
        if (command.expiresAt() != null && !command.expiresAt().isAfter(Clock.now())) {
            throw new LedgerException.Invalid("expires_in_past", "expiresAt must be in the future");
        }
        List<String> scopes = requireList(command.scopes(), "scopes");
        List<String> unknownScopes = KeyScopes.unknown(scopes);
        if (!unknownScopes.isEmpty()) {
            throw new LedgerException.Invalid("invalid_scopes", "unknown scopes " + unknownScopes + "; a key's scopes are "
                    + new TreeSet<>(KeyScopes.KNOWN));
        }
        claims.claim(KEY_SCOPE, command.keyId(), tenantId);
        apply(new KeyIssued(command.keyId(), tenantId, requireText(command.name(), "name", 200), command.secretHash(),
                scopes, requireList(command.allowedModels(), "allowedModels"), command.limits(), command.expiresAt()));
    }

    @CommandHandler
    public void handle(RotateKey command) {
        KeyEntry key = requireKey(command.keyId());
        if (key.status() != KeyStatus.ACTIVE) {
            throw new LedgerException.Conflict("key_" + key.status().name().toLowerCase(Locale.ROOT),
                    "key " + command.keyId() + " is " + key.status().name().toLowerCase(Locale.ROOT) + " and cannot be rotated");
        }
        if (suspended) {
            throw new LedgerException.Conflict("tenant_suspended", "tenant " + tenantId + " is suspended");
        }
        Duration grace = command.gracePeriod() == null ? Duration.ZERO : command.gracePeriod();
        if (grace.isNegative() || grace.compareTo(MAX_GRACE) > 0) {
            throw new LedgerException.Invalid("invalid_grace_period", "the grace period must be between 0 and " + MAX_GRACE.toDays() + " days");
        }
        if (command.newSecretHash() == null) {
            throw new LedgerException.Invalid("missing_secret_hash", "newSecretHash is required");
        }
        apply(new KeyRotated(command.keyId(), tenantId, command.newSecretHash(), Clock.now().plus(grace)));
    }

    @CommandHandler
    public void handle(RevokeKey command) {
        KeyEntry key = requireKey(command.keyId());
        if (key.status() == KeyStatus.REVOKED) {
            throw new LedgerException.Conflict("key_already_revoked", "key " + command.keyId() + " is already revoked");
        }
        apply(new KeyRevoked(command.keyId(), tenantId, requireText(command.reason(), "reason", 500)));
    }

    @CommandHandler
    public void handle(ExpireKey command) {
        KeyEntry key = keys.get(command.keyId());
        // The expiry sweep may race with a revocation or run twice: only an active, overdue key expires.
        if (key != null && key.status() == KeyStatus.ACTIVE && key.expiresAt() != null
                && !key.expiresAt().isAfter(Clock.now())) {
            apply(new KeyExpired(command.keyId(), tenantId));
        }
    }

    @CommandHandler
    public int handle(ConfigureWebhook command) {
        String url = requireText(command.url(), "url", 2000);
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new LedgerException.Invalid("invalid_url", "url is not a valid URI");
        }
        String host = uri.getHost();
        boolean loopback = host != null && (host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]"));
        if (host == null || !("https".equals(uri.getScheme()) || ("http".equals(uri.getScheme()) && loopback))
                || uri.getUserInfo() != null) {
            throw new LedgerException.Invalid("invalid_url", "url must be an https URL without credentials (http only for localhost)");
        }
        int version = webhookSecretVersion + 1;
        apply(new WebhookConfigured(tenantId, url, version));
        return version;
    }

    @CommandHandler
    public String handle(GrantCredit command) {
        if (command.externalId() != null) {
            String granted = grantsByPayment.get(requireText(command.externalId(), "externalId", 200));
            if (granted != null) {
                return granted; // the same payment again (a webhook delivered twice): nothing more
            }
        }
        if (command.grantId() == null || !GRANT_ID.matcher(command.grantId()).matches()) {
            throw new LedgerException.Invalid("invalid_grant_id", "grantId must be cg_ and 32 hex digits");
        }
        if (grants.containsKey(command.grantId())) {
            throw new LedgerException.Conflict("grant_exists", "grant " + command.grantId() + " exists");
        }
        if (command.currency() != null && currency != null && !currency.equals(command.currency())) {
            throw new LedgerException.Invalid("currency_mismatch", "the tenant is billed in " + currency + ", not " + command.currency());
        }
        if (command.amountMicros() <= 0 || command.amountMicros() > MAX_GRANT_MICROS) {
            throw new LedgerException.Invalid("invalid_amountMicros", "amountMicros must be between 1 and " + MAX_GRANT_MICROS);
        }
        if (command.source() == null) {
            throw new LedgerException.Invalid("missing_source", "source is required: one of PURCHASE, PROMOTION, REFUND, ADJUSTMENT");
        }
        String reason = command.reason() == null || command.reason().isBlank() ? null : requireText(command.reason(), "reason", 500);
        if (command.source() == CreditSource.ADJUSTMENT && reason == null) {
            throw new LedgerException.Invalid("missing_reason", "a manual adjustment needs a reason");
        }
        int priority = command.priority() == null ? 50 : command.priority();
        if (priority < 0 || priority > 100) {
            throw new LedgerException.Invalid("invalid_priority", "priority must be between 0 and 100 (lower burns first)");
        }
        Instant grantedAt = Clock.now().truncatedTo(ChronoUnit.MILLIS);
        if (command.expiresAt() != null && !command.expiresAt().isAfter(Clock.now())) {
            throw new LedgerException.Invalid("expires_in_past", "expiresAt must be in the future");
        }
        apply(new CreditGranted(tenantId, command.grantId(), command.amountMicros(), command.source(), reason, grantedAt,
                command.expiresAt(), priority, requireList(command.models(), "models"), command.externalId(), endpoints(command.endpoints())));
        return command.grantId();
    }

    @CommandHandler
    public void handle(VoidCredit command) {
        Boolean voided = command.grantId() == null ? null : grants.get(command.grantId());
        if (voided == null) {
            throw new LedgerException.NotFound("grant_not_found", "no grant " + command.grantId() + " in tenant " + tenantId);
        }
        if (voided) {
            throw new LedgerException.Conflict("grant_already_voided", "grant " + command.grantId() + " is already voided");
        }
        apply(new CreditVoided(tenantId, command.grantId(), requireText(command.reason(), "reason", 500),
                Clock.now().truncatedTo(ChronoUnit.MILLIS)));
    }

    /**
     * A refund of the payment that bought a grant (ADR 0027): in full, the grant is voided; in part, its amount is lowered from now
     * on in proportion (rounded down), {@code refundedMicros} being all that was refunded so far, so a redelivered or an older
     * refund changes nothing. What usage burned before stays burned; a grant burned beyond its new amount has nothing left.
     * Returns the grant's id when it changed, null when nothing did.
     */
    @CommandHandler
    public String handle(RefundPayment command) {
        String grantId = grantsByPayment.get(requireText(command.paymentId(), "paymentId", 200));
        if (grantId == null) {
            throw new LedgerException.NotFound("payment_not_granted", "no grant of payment " + command.paymentId() + " in tenant " + tenantId);
        }
        if (command.paidMicros() <= 0 || command.refundedMicros() <= 0 || command.refundedMicros() > command.paidMicros()) {
            throw new LedgerException.Invalid("invalid_refund", "refundedMicros must be between 1 and paidMicros");
        }
        if (grants.get(grantId)) {
            return null; // voided already: by hand, or by this refund delivered before
        }
        String reason = requireText(command.reason(), "reason", 500);
        Instant now = Clock.now().truncatedTo(ChronoUnit.MILLIS);
        long granted = grantedAmounts.get(grantId);
        long left = BigInteger.valueOf(granted).multiply(BigInteger.valueOf(command.paidMicros() - command.refundedMicros()))
                .divide(BigInteger.valueOf(command.paidMicros())).longValueExact();
        if (left == 0) {
            // A void withdraws what is left of the grant from now on; what usage burned before stays burned (ADR 0027).
            apply(new CreditVoided(tenantId, grantId, reason, now));
            return grantId;
        }
        if (left >= reducedAmounts.getOrDefault(grantId, granted)) {
            return null; // this refund, or a larger one, was applied before
        }
        apply(new CreditReduced(tenantId, grantId, left, reason, now));
        return grantId;
    }

    /** Returns the time the mode takes effect (now, when the command names none). */
    @CommandHandler
    public Instant handle(SetBillingMode command) {
        if (command.mode() == null) {
            throw new LedgerException.Invalid("missing_mode", "mode is required: one of POSTPAID, PREPAID, HYBRID");
        }
        Instant effectiveFrom = notInThePast(command.effectiveFrom());
        apply(new BillingModeSet(tenantId, command.mode(), effectiveFrom));
        return effectiveFrom;
    }

    /** When a mode change takes effect: {@code requested}, or now when null; never in the past. */
    private static Instant notInThePast(Instant requested) {
        Instant now = Clock.now().truncatedTo(ChronoUnit.MILLIS);
        Instant effectiveFrom = requested == null ? now : requested;
        if (effectiveFrom.isBefore(now)) {
            // Usage already billed stays billed as it was: a mode never changes the past.
            throw new LedgerException.Invalid("effective_in_past", "effectiveFrom must not lie in the past");
        }
        return effectiveFrom;
    }

    /** The tenant follows its plan's mode again from {@code effectiveFrom} (now when null) on; returns that time. */
    @CommandHandler
    public Instant handle(ClearBillingMode command) {
        Instant effectiveFrom = notInThePast(command.effectiveFrom());
        apply(new BillingModeCleared(tenantId, effectiveFrom));
        return effectiveFrom;
    }

    @EventSourcingHandler
    void on(CreditGranted event) {
        grants.put(event.grantId(), false);
        grantedAmounts.put(event.grantId(), event.amountMicros());
        if (event.externalId() != null) {
            grantsByPayment.put(event.externalId(), event.grantId());
        }
    }

    @EventSourcingHandler
    void on(CreditReduced event) {
        reducedAmounts.put(event.grantId(), event.amountMicros());
    }

    @EventSourcingHandler
    void on(CreditVoided event) {
        grants.put(event.grantId(), true);
    }

    @EventSourcingHandler
    void on(WebhookConfigured event) {
        webhookSecretVersion = event.secretVersion();
    }

    @EventSourcingHandler
    void on(TenantCreated event) {
        tenantId = event.tenantId();
        currency = event.currency();
    }

    @EventSourcingHandler
    void on(TenantSuspended event) {
        suspended = true;
    }

    @EventSourcingHandler
    void on(TenantReinstated event) {
        suspended = false;
    }

    @EventSourcingHandler
    void on(KeyIssued event) {
        keys.put(event.keyId(), new KeyEntry(KeyStatus.ACTIVE, event.expiresAt()));
    }

    @EventSourcingHandler
    void on(KeyRevoked event) {
        keys.computeIfPresent(event.keyId(), (id, key) -> new KeyEntry(KeyStatus.REVOKED, key.expiresAt()));
    }

    @EventSourcingHandler
    void on(KeyExpired event) {
        keys.computeIfPresent(event.keyId(), (id, key) -> new KeyEntry(KeyStatus.EXPIRED, key.expiresAt()));
    }

    private KeyEntry requireKey(String keyId) {
        KeyEntry key = keyId == null ? null : keys.get(keyId);
        if (key == null) {
            throw new LedgerException.NotFound("key_not_found", "no key " + keyId + " in tenant " + tenantId);
        }
        return key;
    }

    static String requireText(String value, String field, int maxLength) {
        if (value == null || value.isBlank()) {
            throw new LedgerException.Invalid("missing_" + field, field + " is required");
        }
        if (value.length() > maxLength) {
            throw new LedgerException.Invalid("invalid_" + field, field + " is longer than " + maxLength + " characters");
        }
        return value.strip();
    }

    /** The endpoints a grant pays for, each once; none (null or empty) means every endpoint. */
    private static List<Endpoint> endpoints(List<Endpoint> endpoints) {
        if (endpoints == null) {
            return List.of();
        }
        if (endpoints.stream().anyMatch(Objects::isNull)) { // List.of() refuses contains(null)
            throw new LedgerException.Invalid("invalid_endpoints", "endpoints must name endpoints: " + Arrays.toString(Endpoint.values()));
        }
        return List.copyOf(new LinkedHashSet<>(endpoints));
    }

    private static List<String> requireList(List<String> values, String field) {
        if (values == null) {
            return List.of();
        }
        if (values.size() > MAX_LIST_ITEMS || values.stream().anyMatch(v -> v == null || v.isBlank() || v.length() > 200)) {
            throw new LedgerException.Invalid("invalid_" + field, field + " must hold at most " + MAX_LIST_ITEMS
                    + " non-blank entries of at most 200 characters");
        }
        return List.copyOf(values);
    }

    private static void requireZone(String zone) {
        try {
            ZoneId.of(requireText(zone, "billingTimeZone", 64));
        } catch (DateTimeException e) {
            throw new LedgerException.Invalid("invalid_billingTimeZone", "billingTimeZone must be an IANA zone id such as UTC or Europe/Berlin");
        }
    }

    private static String requireCurrency(String currency) {
        String code = requireText(currency, "currency", 3).toUpperCase(Locale.ROOT);
        try {
            Currency.getInstance(code);
            return code;
        } catch (IllegalArgumentException e) {
            throw new LedgerException.Invalid("invalid_currency", "currency must be an ISO 4217 code such as USD");
        }
    }
}
