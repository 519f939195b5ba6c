package dev.tollgate.gateway.auth;

import dev.tollgate.schemas.ledger.Limits;

import java.util.List;

/**
 * An authenticated caller: the key and its tenant, with what they may use.
 *
 * @param allowedModels models the key may call; empty means every model the gateway serves
 */
public record Principal(String tenantId, String keyId, List<String> allowedModels, Limits keyLimits, Limits tenantLimits) {

    /** True if the key may call {@code model}. */
    public boolean mayUse(String model) {
        return allowedModels.isEmpty() || allowedModels.contains(model);
    }
}
