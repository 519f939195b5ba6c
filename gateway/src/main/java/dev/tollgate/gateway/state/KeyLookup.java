package dev.tollgate.gateway.state;

import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;

import java.util.Optional;

/** Where authentication finds keys and tenants (in memory, never over the network). */
public interface KeyLookup {
    Optional<KeyState> key(String keyId);

    Optional<TenantState> tenant(String tenantId);
}
