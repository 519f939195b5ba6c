package dev.tollgate.gateway.quota;

import dev.tollgate.billing.PlanHistory;
import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.gateway.state.QuotaLookup;
import dev.tollgate.schemas.state.TenantState;

import java.time.Instant;
import java.util.function.Supplier;

/**
 * Refuses a model that has no price in force for the tenant's plan, unless the plan explicitly
 * allows unpriced usage (ADR 0019): such usage would be billed at zero and would never run down a
 * spend limit. The price is the one billing-core finds for the plan in force now
 * ({@link PlanHistory}, {@code PriceBook}), the same the projector will bill with.
 */
public final class UnpricedModels {
    private final KeyLookup tenants;
    private final QuotaLookup prices;
    private final Supplier<Instant> clock;

    public UnpricedModels(KeyLookup tenants, QuotaLookup prices, Supplier<Instant> clock) {
        this.tenants = tenants;
        this.prices = prices;
        this.clock = clock;
    }

    /** True if the tenant may call {@code model} now: it has a price, or the tenant's plan allows unpriced usage. */
    public boolean mayCall(String tenantId, String model) {
        TenantState tenant = tenants.tenant(tenantId).orElse(null);
        if (tenant == null || !Boolean.FALSE.equals(tenant.allowUnpricedUsage())) {
            return true; // allowed, or a state from before the rule (the ledger now always says)
        }
        return prices.priceBook().ratesAt(PlanHistory.of(tenant), model, clock.get()).isPresent();
    }
}
