package dev.tollgate.gateway.quota;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.gateway.state.QuotaLookup;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class UnpricedModelsTest {
    private static final Instant NOW = Instant.parse("2026-11-20T12:00:00Z");
    private static final Instant DEC = Instant.parse("2026-12-01T00:00:00Z");
    private final Map<String, TenantState> tenants = new HashMap<>();
    private final PriceBook book = new PriceBook()
            .add(new PriceListPublished("basic-1", "basic", "USD", Instant.parse("2026-11-01T00:00:00Z"), false,
                    List.of(new ModelPrice("priced", 1, 1, 1))))
            .add(new PriceListPublished("gold-1", "gold", "USD", Instant.parse("2026-11-01T00:00:00Z"), false,
                    List.of(new ModelPrice("priced", 2, 2, 2), new ModelPrice("gold-only", 2, 2, 2))));
    private final UnpricedModels unpriced = new UnpricedModels(new KeyLookup() {
        @Override
        public Optional<KeyState> key(String keyId) {
            return Optional.empty();
        }

        @Override
        public Optional<TenantState> tenant(String tenantId) {
            return Optional.ofNullable(tenants.get(tenantId));
        }
    }, new QuotaLookup() {
        @Override
        public Optional<QuotaState> quota(String stateKey) {
            return Optional.empty();
        }

        @Override
        public PriceBook priceBook() {
            return book;
        }
    }, () -> NOW);

    private void tenant(Boolean allowUnpriced, List<PlanPeriod> plans) {
        tenants.put("acme", new TenantState("acme", "Acme", TenantState.Status.ACTIVE, "basic", "UTC", "USD", Limits.NONE, null, null, 1,
                NOW, plans, allowUnpriced));
    }

    @Test
    void aModelWithoutAPriceOnThePlanInForceIsRefused() {
        tenant(false, List.of(new PlanPeriod("basic", Instant.EPOCH), new PlanPeriod("gold", DEC)));
        assertThat(unpriced.mayCall("acme", "priced")).isTrue();
        assertThat(unpriced.mayCall("acme", "gold-only")).as("priced only on the plan scheduled for December").isFalse();
        assertThat(unpriced.mayCall("acme", "nowhere")).isFalse();
    }

    @Test
    void aPlanThatAllowsUnpricedUsageAndAStateFromBeforeTheRuleServeEveryModel() {
        tenant(true, null);
        assertThat(unpriced.mayCall("acme", "nowhere")).isTrue();
        tenant(null, null);
        assertThat(unpriced.mayCall("acme", "nowhere")).isTrue();
    }

    @Test
    void aTenantWithoutAPlanHasNoPrices() {
        tenants.put("acme", new TenantState("acme", "Acme", TenantState.Status.ACTIVE, null, "UTC", "USD", Limits.NONE, null, null, 1, NOW,
                null, false));
        assertThat(unpriced.mayCall("acme", "priced")).isFalse();
    }
}
