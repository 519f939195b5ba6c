package dev.tollgate.ledger.tenant;

import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.SecretHash;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/** Commands handled by the {@link Tenant} aggregate (which owns the tenant's API keys). */
public final class TenantCommands {
    private TenantCommands() {}

    public record CreateTenant(@TargetAggregateIdentifier String tenantId, String name, String billingTimeZone,
                               String currency) {}

    public record SuspendTenant(@TargetAggregateIdentifier String tenantId, String reason) {}

    public record ReinstateTenant(@TargetAggregateIdentifier String tenantId) {}

    public record AssignPlan(@TargetAggregateIdentifier String tenantId, String planId, Instant effectiveFrom) {}

    /** Tenant limits when {@code keyId} is null, else the key's own limits. */
    public record SetLimits(@TargetAggregateIdentifier String tenantId, String keyId, Limits limits) {}

    /** Issues a key whose secret the caller generated; only its hash enters the ledger. */
    public record IssueKey(@TargetAggregateIdentifier String tenantId, String keyId, String name, SecretHash secretHash,
                           List<String> scopes, List<String> allowedModels, Limits limits, Instant expiresAt) {
        @Override
        public String toString() {
            return "IssueKey[" + tenantId + ", " + keyId + "]";
        }
    }

    public record RotateKey(@TargetAggregateIdentifier String tenantId, String keyId, SecretHash newSecretHash,
                            Duration gracePeriod) {
        @Override
        public String toString() {
            return "RotateKey[" + tenantId + ", " + keyId + "]";
        }
    }

    public record RevokeKey(@TargetAggregateIdentifier String tenantId, String keyId, String reason) {}

    /** Points the tenant's budget alerts at {@code url}; returns the new signing-secret version. */
    public record ConfigureWebhook(@TargetAggregateIdentifier String tenantId, String url) {}

    public record ExpireKey(@TargetAggregateIdentifier String tenantId, String keyId) {}

    /**
     * Adds prepaid credit ({@code priority} null: 50); returns the grant's id. A purchase names its payment in
     * {@code externalId}: the same payment granted again returns the first grant's id and grants nothing.
     * {@code currency}, when given (a payment's), must be the tenant's. {@code models} and {@code endpoints} empty or null:
     * every model, every endpoint.
     */
    public record GrantCredit(@TargetAggregateIdentifier String tenantId, String grantId, long amountMicros, CreditSource source,
                              String reason, Instant expiresAt, Integer priority, List<String> models, List<Endpoint> endpoints,
                              String externalId, String currency) {
        public GrantCredit(String tenantId, String grantId, long amountMicros, CreditSource source, String reason, Instant expiresAt,
                           Integer priority, List<String> models, List<Endpoint> endpoints, String externalId) {
            this(tenantId, grantId, amountMicros, source, reason, expiresAt, priority, models, endpoints, externalId, null);
        }

        /** A new grant id: {@code cg_} and 128 random bits in hex. */
        public static String newId() {
            byte[] bytes = new byte[16];
            RANDOM.nextBytes(bytes);
            return "cg_" + HexFormat.of().formatHex(bytes);
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Withdraws the unspent part of a grant from now on. */
    public record VoidCredit(@TargetAggregateIdentifier String tenantId, String grantId, String reason) {}

    /**
     * {@code refundedMicros} of the {@code paidMicros} of payment {@code paymentId} were refunded so far: the grant it bought is
     * voided (in full) or lowered in proportion (in part), once (its id; null if nothing changed).
     */
    public record RefundPayment(@TargetAggregateIdentifier String tenantId, String paymentId, long refundedMicros, long paidMicros,
                                String reason) {}

    /** The tenant's own billing mode from {@code effectiveFrom} (null: now) on, whatever its plan's. */
    public record SetBillingMode(@TargetAggregateIdentifier String tenantId, BillingMode mode, Instant effectiveFrom) {}

    /** The tenant follows its plan's billing mode again from {@code effectiveFrom} (null: now) on. */
    public record ClearBillingMode(@TargetAggregateIdentifier String tenantId, Instant effectiveFrom) {}
}
