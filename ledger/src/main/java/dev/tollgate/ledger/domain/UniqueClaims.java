package dev.tollgate.ledger.domain;

import java.util.Optional;

/**
 * Set-wide uniqueness that an aggregate cannot check alone (tenant names, one price list per plan
 * and start time). A claim is written in the same database transaction as the events of the
 * command that makes it, so either both are stored or neither.
 */
public interface UniqueClaims {
    /**
     * Claims {@code value} within {@code scope} for {@code owner}. Claiming again for the same owner
     * is a no-op; a value held by another owner throws {@link LedgerException.Conflict}.
     */
    void claim(String scope, String value, String owner);

    /** True if someone holds {@code value} within {@code scope}. */
    boolean isClaimed(String scope, String value);

    /** Who holds {@code value} within {@code scope}, if anyone. */
    Optional<String> owner(String scope, String value);
}
