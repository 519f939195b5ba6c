package dev.tollgate.gateway.state;

import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.schemas.state.QuotaState;

import java.util.Optional;

/** Where the budget checks find the projector's quota state and the plans' prices (in memory). */
public interface QuotaLookup {
    /** The latest state of a budget ({@link QuotaState#stateKey}). */
    Optional<QuotaState> quota(String stateKey);

    /** The price lists of a plan. */
    Optional<PriceSchedule> prices(String planId);
}
