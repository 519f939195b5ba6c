package dev.tollgate.ledger.pricing;

import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.time.Instant;
import java.util.List;

/** Commands of the platform-wide {@link Plan} and {@link PriceList} aggregates. */
public final class PricingCommands {
    private PricingCommands() {}

    /** Creates the plan or changes its name and default limits. */
    public record DefinePlan(@TargetAggregateIdentifier String planId, String name, Limits defaultLimits, boolean allowUnpricedUsage) {
        public DefinePlan(String planId, String name, Limits defaultLimits) {
            this(planId, name, defaultLimits, false);
        }
    }

    /**
     * Publishes a price list. {@code backfill} must be set (by a platform-admin) for an
     * {@code effectiveFrom} in the past; it is recorded in the event.
     */
    public record PublishPriceList(@TargetAggregateIdentifier String priceListId, String planId, String currency,
                                   Instant effectiveFrom, boolean backfill, List<ModelPrice> prices) {}
}
