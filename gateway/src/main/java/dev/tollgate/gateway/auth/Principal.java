package dev.tollgate.gateway.auth;

import dev.tollgate.schemas.ledger.Limits;

import java.util.List;

/**
 * An authenticated caller: the key and its tenant, with what they may use.
 *
 * @param allowedModels models the key may call; empty means every model the gateway serves
 * @param tier          the tenant's plan id ({@value #NO_TIER} without one): a metric label of bounded cardinality
 */
public record Principal(String tenantId, String keyId, List<String> allowedModels, Limits keyLimits, Limits tenantLimits,
                        String tier) {
    public static final String NO_TIER = "none";

    public Principal {
        tier = tier == null || tier.isBlank() ? NO_TIER : tier;
    }

    /** A principal of a tenant without a plan. */
    public Principal(String tenantId, String keyId, List<String> allowedModels, Limits keyLimits, Limits tenantLimits) {
        this(tenantId, keyId, allowedModels, keyLimits, tenantLimits, NO_TIER);
    }

    /** True if the key may call {@code model}. */
    public boolean mayUse(String model) {
        return allowedModels.isEmpty() || allowedModels.contains(model);
    }
}
