package dev.tollgate.ledger.tenant;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.domain.UniqueClaims;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The uniqueness rule of {@link UniqueClaims} without a database, for aggregate fixtures. */
public final class InMemoryClaims implements UniqueClaims {
    private final Map<String, String> owners = new HashMap<>();

    @Override
    public void claim(String scope, String value, String owner) {
        String existing = owners.putIfAbsent(scope + "\u0000" + value, owner);
        if (existing != null && !existing.equals(owner)) {
            throw new LedgerException.Conflict(scope + "_taken", scope + " '" + value + "' is taken");
        }
    }

    @Override
    public Optional<String> owner(String scope, String value) {
        return Optional.ofNullable(owners.get(scope + "\u0000" + value));
    }

    @Override
    public boolean isClaimed(String scope, String value) {
        return owners.containsKey(scope + "\u0000" + value);
    }
}
