package dev.tollgate.gateway.state;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.schemas.state.QuotaState;

import java.util.Optional;

/** Where the budget checks find the projector's quota state and the plans' prices (in memory). */
public interface QuotaLookup {
    /** The latest state of a budget ({@link QuotaState#stateKey}). */
    Optional<QuotaState> quota(String stateKey);

    /** Every plan's price lists. */
    PriceBook priceBook();
}
