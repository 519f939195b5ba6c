package dev.tollgate.gateway.quota;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.billing.UsageCounts;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.gateway.state.QuotaLookup;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class BudgetsTest {
    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
    private static final Instant DAY = Instant.parse("2026-11-27T00:00:00Z");
    private final Map<String, QuotaState> states = new HashMap<>();
    private final AtomicReference<Instant> clock = new AtomicReference<>(NOW);
    private final QuotaLookup quotas = new QuotaLookup() {
        @Override
        public Optional<QuotaState> quota(String stateKey) {
            return Optional.ofNullable(states.get(stateKey));
        }

        @Override
        public PriceBook priceBook() {
            return new PriceBook().add(new PriceListPublished("pl", "pro", "USD", Instant.parse("2026-01-01T00:00:00Z"), false,
                    List.of(new ModelPrice("m", 1_000_000, 500_000, 2_000_000))));
        }
    };
    private Limits tenantLimits = new Limits(null, null, 1_000L, null, null, null);
    /** Prepaid tests set these. */
    private List<BillingModePeriod> modes;
    private List<CreditGrant> credits;

    private Budgets budgets(int replicas) {
        KeyLookup directory = new KeyLookup() {
            @Override
            public Optional<KeyState> key(String keyId) {
                return Optional.empty();
            }

            @Override
            public Optional<TenantState> tenant(String tenantId) {
                return Optional.of(new TenantState(tenantId, tenantId, TenantState.Status.ACTIVE, "pro", "UTC", "USD", tenantLimits, null,
                        null, 1, NOW, null, true, modes, credits));
            }
        };
        return new Budgets(quotas, directory, "/gateway/gw-1", replicas, clock::get);
    }

    private Object admit(Budgets budgets, long prompt, long maxTokens) {
        return admit(budgets, Endpoint.CHAT_COMPLETIONS, prompt, maxTokens);
    }

    private Object admit(Budgets budgets, Endpoint endpoint, long prompt, long maxTokens) {
        return budgets.admit(new Principal("acme", "k1", List.of(), null, tenantLimits), "m", endpoint, prompt, maxTokens);
    }

    private void state(long usedTokens, Instant asOf, QuotaState.Status status) {
        states.put("acme/*/DAY", new QuotaState("acme", null, QuotaState.Window.DAY, DAY, DAY.plusSeconds(86_400), usedTokens, 0, 1_000L,
                null, status, asOf, 7));
    }

    @Test
    void reservationsAreHeldUntilSettledAndTheRealUsageCounts() {
        Budgets budgets = budgets(1);
        var first = (Budgets.Hold) admit(budgets, 100, 500);
        assertThat(admit(budgets, 100, 500)).isInstanceOf(Budgets.Refusal.class); // 600 held + 600 > 1,000
        first.settle(UsageCounts.tokens(100, 0, 200), NOW);                                              // 300 used, nothing held
        assertThat(admit(budgets, 100, 600)).isInstanceOf(Budgets.Hold.class);      // 300 + 700 = 1,000
        assertThat(admit(budgets, 1, 0)).isInstanceOf(Budgets.Refusal.class);
    }

    @Test
    void eachOfNReplicasMaySpendOneNthOfWhatTheStateSaysIsLeft() {
        state(400, NOW, QuotaState.Status.OK);
        Budgets budgets = budgets(3);
        assertThat(admit(budgets, 0, 201)).isInstanceOf(Budgets.Refusal.class); // 600 left / 3 = 200
        assertThat(admit(budgets, 0, 200)).isInstanceOf(Budgets.Hold.class);
    }

    @Test
    void ownUsageCountsUntilTheStateReflectsItWithAMargin() {
        Budgets budgets = budgets(1);
        var hold = (Budgets.Hold) admit(budgets, 0, 500);
        hold.settle(UsageCounts.tokens(0, 0, 500), NOW.minusSeconds(60));
        state(0, NOW.minusSeconds(120), QuotaState.Status.OK);           // the state predates that usage
        assertThat(admit(budgets, 0, 501)).isInstanceOf(Budgets.Refusal.class);
        state(500, NOW.minusSeconds(30), QuotaState.Status.OK);          // now it includes it (and 30 s > the margin)
        assertThat(admit(budgets, 0, 500)).isInstanceOf(Budgets.Hold.class);
    }

    @Test
    void aStreamIsCutWhenItsTokensUseUpTheShare() {
        state(900, NOW, QuotaState.Status.OK);
        Budgets budgets = budgets(1);
        var hold = (Budgets.Hold) admit(budgets, 20, 0);   // 100 left; the prompt estimate counts from the start
        assertThat(hold.onTokens(79)).isFalse();            // 99 used
        assertThat(hold.onTokens(1)).isTrue();              // 100: the budget is used up
    }

    @Test
    void anExhaustedStateRefusesAndYesterdaysStateIsIgnored() {
        state(1_000, NOW, QuotaState.Status.EXHAUSTED);
        assertThat(admit(budgets(1), 0, 1)).isInstanceOf(Budgets.Refusal.class);
        clock.set(NOW.plusSeconds(86_400));                 // tomorrow: the state's window is over
        assertThat(admit(budgets(1), 0, 1_000)).isInstanceOf(Budgets.Hold.class);
    }

    @Test
    void aSoftSpendLimitServesButFlagsAndAHardOneRefuses() {
        tenantLimits = new Limits(null, null, null, 1_000L, Limits.SpendLimitMode.SOFT, null);
        Object soft = admit(budgets(1), 1_000, 1_000);      // 1,000 x 1 + 1,000 x 2 micros = 3,000 > 1,000
        assertThat(soft).isInstanceOf(Budgets.Hold.class);
        assertThat(((Budgets.Hold) soft).softLimited()).containsExactly("tenant-spend");
        tenantLimits = new Limits(null, null, null, 1_000L, Limits.SpendLimitMode.HARD, null);
        assertThat(admit(budgets(1), 1_000, 1_000)).isInstanceOf(Budgets.Refusal.class);
        assertThat(admit(budgets(1), 200, 300)).isInstanceOf(Budgets.Hold.class); // 200 + 600 = 800 micros
    }

    @Test
    void withPerSourceWatermarksOwnUsageCountsExactlyUntilTheProjectorHasSeenIt() {
        Budgets budgets = budgets(1);
        var hold = (Budgets.Hold) admit(budgets, 0, 500);
        hold.settle(UsageCounts.tokens(0, 0, 500), NOW.minusMillis(10));
        // The state's asOf is later (another replica's event) but this replica's own watermark is older: still counted.
        states.put("acme/*/DAY", new QuotaState("acme", null, QuotaState.Window.DAY, DAY, DAY.plusSeconds(86_400), 0, 0, 1_000L, null,
                QuotaState.Status.OK, NOW, 3, Map.of("/gateway/gw-1", NOW.minusSeconds(1), "/gateway/gw-2", NOW)));
        assertThat(admit(budgets, 0, 501)).isInstanceOf(Budgets.Refusal.class);
        // Once its own watermark passes that usage it is the state's, not counted twice, with no margin to wait for.
        states.put("acme/*/DAY", new QuotaState("acme", null, QuotaState.Window.DAY, DAY, DAY.plusSeconds(86_400), 500, 0, 1_000L, null,
                QuotaState.Status.OK, NOW, 4, Map.of("/gateway/gw-1", NOW.minusMillis(10))));
        assertThat(admit(budgets, 0, 500)).isInstanceOf(Budgets.Hold.class);
    }

    private void prepaid(BillingMode mode, long... grantMicros) {
        tenantLimits = Limits.NONE;
        modes = List.of(new BillingModePeriod(mode, NOW.minusSeconds(3600)));
        var grants = new ArrayList<CreditGrant>();
        for (int i = 0; i < grantMicros.length; i++) {
            grants.add(new CreditGrant("cg_" + i, grantMicros[i], CreditSource.PURCHASE, NOW.minusSeconds(60), null, null, 50, List.of()));
        }
        credits = grants;
    }

    private void creditState(Map<String, Long> used, long unfunded) {
        states.put("acme/*/CREDIT", new QuotaState("acme", null, QuotaState.Window.CREDIT, QuotaState.CREDIT_WINDOW_START,
                QuotaState.CREDIT_WINDOW_END, 0, 0, null, null, QuotaState.Status.OK, NOW, 5, Map.of("/gateway/gw-1", NOW), used, unfunded));
    }

    @Test
    void aPrepaidTenantIsAdmittedOnlyWhileItsBalanceCoversTheReservationAndIsRefusedWithWhatIsLeft() {
        prepaid(BillingMode.PREPAID, 1_000, 2_000);
        Budgets budgets = budgets(1);
        var hold = (Budgets.Hold) admit(budgets, 1_000, 500);          // up to 1,000 x 1 + 500 x 2 = 2,000 micros of 3,000
        assertThat(budgets.balance("acme")).contains(new Budgets.Balance(1_000, "USD"));
        var refused = (Budgets.Refusal) admit(budgets, 1_000, 500);
        assertThat(refused.prepaid()).isTrue();
        assertThat(refused.balanceMicros()).isEqualTo(1_000);
        assertThat(refused.message()).contains("0.001 USD left").contains("up to 0.002 USD");

        hold.settle(UsageCounts.tokens(500, 0, 100), NOW);                                  // 700 micros really used
        assertThat(budgets.balance("acme")).contains(new Budgets.Balance(2_300, "USD"));
        assertThat(admit(budgets, 1_000, 500)).isInstanceOf(Budgets.Hold.class);
    }

    @Test
    void whatAReplicaHoldsOfABalanceIsReportedForTheFleetUntilTheStateShowsIt() {
        prepaid(BillingMode.PREPAID, 1_000, 2_000);
        Budgets budgets = budgets(1);
        assertThat(budgets.inFlight()).isEmpty();
        var hold = (Budgets.Hold) admit(budgets, 1_000, 500);          // 2,000 micros reserved
        assertThat(budgets.inFlight()).containsExactly(new GatewayHeartbeat.Balance("acme", 2_000));
        hold.settle(UsageCounts.tokens(500, 0, 100), NOW.plusSeconds(1));                   // 700 used, after the state's watermark for this replica
        creditState(Map.of(), 0);
        assertThat(budgets.inFlight()).containsExactly(new GatewayHeartbeat.Balance("acme", 700));
        states.put("acme/*/CREDIT", new QuotaState("acme", null, QuotaState.Window.CREDIT, QuotaState.CREDIT_WINDOW_START,
                QuotaState.CREDIT_WINDOW_END, 0, 700, null, null, QuotaState.Status.OK, NOW.plusSeconds(1), 6,
                Map.of("/gateway/gw-1", NOW.plusSeconds(1)), Map.of("cg_0", 700L), 0L));
        assertThat(budgets.inFlight()).as("the projector has counted it").isEmpty();
    }

    @Test
    void thePublishedBurnAndUnfundedUsageLowerTheBalanceAndEachReplicaGetsItsShare() {
        prepaid(BillingMode.PREPAID, 1_000, 2_000);
        creditState(Map.of("cg_0", 1_000L, "cg_1", 1_400L), 300);      // 3,000 - 2,400 - 300 = 300 left
        assertThat(budgets(1).balance("acme")).contains(new Budgets.Balance(300, "USD"));
        assertThat(admit(budgets(3), 0, 50)).isInstanceOf(Budgets.Hold.class);     // 100 micros of a 100 share
        assertThat(admit(budgets(3), 0, 51)).isInstanceOf(Budgets.Refusal.class);
        creditState(Map.of("cg_0", 1_000L, "cg_1", 2_000L), 0);
        assertThat(((Budgets.Refusal) admit(budgets(1), 1, 0)).balanceMicros()).isZero();
    }

    @Test
    void aGrantForOtherEndpointsAdmitsNothingHereButCountsInTheBalanceHeader() {
        prepaid(BillingMode.PREPAID);
        credits = List.of(new CreditGrant("cg_emb", 5_000, CreditSource.PROMOTION, NOW.minusSeconds(60), null, null, 50, List.of(),
                List.of(Endpoint.EMBEDDINGS)));
        Budgets budgets = budgets(1);
        var refused = (Budgets.Refusal) admit(budgets, Endpoint.CHAT_COMPLETIONS, 100, 0);
        assertThat(refused.balanceMicros()).isZero();
        assertThat(admit(budgets, Endpoint.EMBEDDINGS, 100, 0)).isInstanceOf(Budgets.Hold.class);
        assertThat(budgets.balance("acme")).contains(new Budgets.Balance(4_900, "USD"));
    }

    @Test
    void aPrepaidStreamIsCutWhenTheBalanceRunsOut() {
        prepaid(BillingMode.PREPAID, 1_000);
        var hold = (Budgets.Hold) admit(budgets(1), 100, 0);            // the prompt alone: 100 micros
        assertThat(hold.onTokens(449)).isFalse();                        // 100 + 898 = 998
        assertThat(hold.onTokens(1)).isTrue();                           // 1,000: the balance is gone
    }

    @Test
    void aHybridTenantIsNeverRefusedForItsBalanceButFlaggedOnceItIsGoneAndAPostpaidOneHasNoBalance() {
        prepaid(BillingMode.HYBRID, 1_000);
        var hold = (Budgets.Hold) admit(budgets(1), 1_000, 1_000);
        assertThat(hold.softLimited()).containsExactly("tenant-credit");
        assertThat(budgets(1).balance("acme")).contains(new Budgets.Balance(1_000, "USD"));
        modes = null;
        assertThat(budgets(1).balance("acme")).isEmpty();
        assertThat(((Budgets.Hold) admit(budgets(1), 1_000, 1_000)).softLimited()).isEmpty();
    }

    @Test
    void aTopUpAdmitsAtOnceEvenThoughTheLastPublishedBalanceWasExhausted() {
        prepaid(BillingMode.PREPAID, 1_000);
        states.put("acme/*/CREDIT", new QuotaState("acme", null, QuotaState.Window.CREDIT, QuotaState.CREDIT_WINDOW_START,
                QuotaState.CREDIT_WINDOW_END, 0, 1_050, null, null, QuotaState.Status.EXHAUSTED, NOW, 9, Map.of("/gateway/gw-1", NOW),
                Map.of("cg_0", 1_000L), 50L));
        assertThat(admit(budgets(1), 1, 0)).isInstanceOf(Budgets.Refusal.class);
        prepaid(BillingMode.PREPAID, 1_000, 2_000);                     // the top-up, on the tenant's state; no usage since
        assertThat(budgets(1).balance("acme")).contains(new Budgets.Balance(1_950, "USD"));
        assertThat(admit(budgets(1), 0, 975)).isInstanceOf(Budgets.Hold.class);   // 1,950 micros: the overshoot is paid first
        assertThat(admit(budgets(1), 0, 976)).isInstanceOf(Budgets.Refusal.class);
    }
}
