package dev.tollgate.ledger.pricing;

import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.time.Instant;
import java.util.List;

/** Commands of the platform-wide {@link Plan} and {@link PriceList} aggregates. */
public final class PricingCommands {
    private PricingCommands() {}

    /**
     * Creates the plan or changes its name, default limits and billing mode ({@code billingMode} null: POSTPAID; a change
     * applies to its tenants from now on).
     */
    public record DefinePlan(@TargetAggregateIdentifier String planId, String name, Limits defaultLimits, boolean allowUnpricedUsage,
                             BillingMode billingMode) {
        public DefinePlan(String planId, String name, Limits defaultLimits) {
            this(planId, name, defaultLimits, false, null);
        }

        public DefinePlan(String planId, String name, Limits defaultLimits, boolean allowUnpricedUsage) {
            this(planId, name, defaultLimits, allowUnpricedUsage, null);
        }
    }

    /**
     * Publishes a price list. {@code backfill} must be set (by a platform-admin) for an
     * {@code effectiveFrom} in the past; it is recorded in the event.
     */
    public record PublishPriceList(@TargetAggregateIdentifier String priceListId, String planId, String currency,
                                   Instant effectiveFrom, boolean backfill, List<ModelPrice> prices) {}
}
