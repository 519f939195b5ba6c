package dev.tollgate.ledger.store;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.domain.UniqueClaims;
import dev.tollgate.ledger.pricing.Plan;
import dev.tollgate.ledger.tenant.PlanDirectory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Optional;

/**
 * Claims in table {@code unique_claim}, written through Spring's transaction-bound connection, so a
 * claim commits or rolls back with the events of the command that made it.
 */
@Component
public class JdbcUniqueClaims implements UniqueClaims, PlanDirectory {
    private final JdbcTemplate jdbc;

    public JdbcUniqueClaims(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public void claim(String scope, String value, String owner) {
        int inserted = jdbc.update("INSERT INTO unique_claim (scope, claimed_value, owner) VALUES (?, ?, ?) "
                + "ON CONFLICT (scope, claimed_value) DO NOTHING", scope, value, owner);
        if (inserted == 0) {
            List<String> owners = jdbc.queryForList("SELECT owner FROM unique_claim WHERE scope = ? AND claimed_value = ?",
                    String.class, scope, value);
            if (!owners.contains(owner)) {
                throw new LedgerException.Conflict(scope.replace('-', '_') + "_taken", scope + " '" + value + "' is already taken");
            }
        }
    }

    @Override
    public boolean isClaimed(String scope, String value) {
        Integer count = jdbc.queryForObject("SELECT count(*) FROM unique_claim WHERE scope = ? AND claimed_value = ?",
                Integer.class, scope, value);
        return count != null && count > 0;
    }

    @Override
    public Optional<String> owner(String scope, String value) {
        return jdbc.queryForList("SELECT owner FROM unique_claim WHERE scope = ? AND claimed_value = ?", String.class, scope, value)
                .stream().findFirst();
    }

    @Override
    public boolean exists(String planId) {
        return isClaimed(Plan.PLAN_SCOPE, planId);
    }
}
