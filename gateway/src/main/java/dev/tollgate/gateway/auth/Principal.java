package dev.tollgate.gateway.auth;

import dev.tollgate.schemas.key.KeyScopes;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.usage.Endpoint;

import java.util.List;

/**
 * An authenticated caller: the key and its tenant, with what they may use.
 *
 * @param allowedModels models the key may call; empty means every model the gateway serves
 * @param tier          the tenant's plan id ({@value #NO_TIER} without one): a metric label of bounded cardinality
 * @param scopes        the endpoints the key may call ({@link KeyScopes}); empty means every endpoint
 */
public record Principal(String tenantId, String keyId, List<String> allowedModels, Limits keyLimits, Limits tenantLimits,
                        String tier, List<String> scopes) {
    public static final String NO_TIER = "none";

    public Principal {
        tier = tier == null || tier.isBlank() ? NO_TIER : tier;
        scopes = scopes == null ? List.of() : scopes;
    }

    /** A principal of a tenant without a plan, whose key may call every endpoint. */
    public Principal(String tenantId, String keyId, List<String> allowedModels, Limits keyLimits, Limits tenantLimits) {
        this(tenantId, keyId, allowedModels, keyLimits, tenantLimits, NO_TIER, List.of());
    }

    /** True if the key's scopes let it call {@code endpoint}. */
    public boolean mayCall(Endpoint endpoint) {
        return KeyScopes.allows(scopes, endpoint);
    }

    /** True if the tenant's limits (its own or its plan's) and the key's let {@code endpoint} be called. */
    public boolean limitsAllow(Endpoint endpoint) {
        return (tenantLimits == null || tenantLimits.allows(endpoint)) && (keyLimits == null || keyLimits.allows(endpoint));
    }

    /** True if the key may list the models. */
    public boolean mayListModels() {
        return KeyScopes.allowsModelList(scopes);
    }

    /** True if the key may call {@code model}. */
    public boolean mayUse(String model) {
        return allowedModels.isEmpty() || allowedModels.contains(model);
    }
}
