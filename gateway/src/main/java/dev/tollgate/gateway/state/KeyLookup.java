package dev.tollgate.gateway.state;

import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;

import java.util.Map;
import java.util.Optional;

/** Where authentication finds keys and tenants (in memory, never over the network). */
public interface KeyLookup {
    Optional<KeyState> key(String keyId);

    Optional<TenantState> tenant(String tenantId);

    /** A lookup over two maps (by key id, by tenant id), read on every call: tests and benchmarks. */
    static KeyLookup of(Map<String, KeyState> keys, Map<String, TenantState> tenants) {
        return new KeyLookup() {
            @Override
            public Optional<KeyState> key(String keyId) {
                return Optional.ofNullable(keys.get(keyId));
            }

            @Override
            public Optional<TenantState> tenant(String tenantId) {
                return Optional.ofNullable(tenants.get(tenantId));
            }
        };
    }
}
