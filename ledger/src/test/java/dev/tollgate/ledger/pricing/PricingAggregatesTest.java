package dev.tollgate.ledger.pricing;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.pricing.PricingCommands.DefinePlan;
import dev.tollgate.ledger.pricing.PricingCommands.PublishPriceList;
import dev.tollgate.ledger.tenant.InMemoryClaims;
import dev.tollgate.ledger.tenant.PlanDirectory;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.ledger.PriceListPublished;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

class PricingAggregatesTest {
    private static final List<ModelPrice> PRICES = List.of(new ModelPrice("m", 150_000, 75_000, 600_000));

    private AggregateTestFixture<PriceList> prices;
    private AggregateTestFixture<Plan> plans;
    private InMemoryClaims claims;

    @BeforeEach
    void setUp() {
        claims = new InMemoryClaims();
        prices = new AggregateTestFixture<>(PriceList.class);
        prices.registerInjectableResource(claims);
        prices.registerInjectableResource((PlanDirectory) Set.of("pro")::contains);
        plans = new AggregateTestFixture<>(Plan.class);
        plans.registerInjectableResource(claims);
    }

    private Instant tomorrow() {
        return prices.currentTime().plus(Duration.ofDays(1));
    }

    @Test
    void aPriceListForTheFutureIsPublished() {
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "usd", tomorrow(), false, PRICES))
                .expectEvents(new PriceListPublished("pl-1", "pro", "USD", tomorrow(), false, PRICES));
    }

    @Test
    void anEffectiveFromInThePastIsRefusedWithoutBackfill() {
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "USD", prices.currentTime().minus(Duration.ofDays(3)), false, PRICES))
                .expectException(LedgerException.Invalid.class)
                .expectExceptionMessage("effectiveFrom is in the past; publish it as an explicit backfill (platform-admin only) if that is intended");
    }

    @Test
    void aBackfillIsRecordedInTheEvent() {
        Instant past = prices.currentTime().minus(Duration.ofDays(3));
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "USD", past, true, PRICES))
                .expectEvents(new PriceListPublished("pl-1", "pro", "USD", past, true, PRICES));
    }

    @Test
    void aBackfillFlagForTheFutureIsRefused() {
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "USD", tomorrow(), true, PRICES))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void twoListsOfAPlanCannotStartAtTheSameInstant() {
        claims.claim("price-list-start", "pro@" + tomorrow(), "pl-0");

        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "USD", tomorrow(), false, PRICES))
                .expectException(LedgerException.Conflict.class);
    }

    @Test
    void aModelPricedTwiceOrNoPricesAtAllIsRefused() {
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "USD", tomorrow(), false, List.of(PRICES.get(0), PRICES.get(0))))
                .expectException(LedgerException.Invalid.class);
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "pro", "USD", tomorrow(), false, List.of()))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void aPriceListForAnUnknownPlanIsRefused() {
        prices.givenNoPriorActivity()
                .when(new PublishPriceList("pl-1", "gold", "USD", tomorrow(), false, PRICES))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void definingAPlanCreatesOrUpdatesIt() {
        var limits = new Limits(600L, null, null, null, null, 16L);
        plans.givenNoPriorActivity().when(new DefinePlan("pro", "Pro", limits))
                .expectEvents(new PlanDefined("pro", "Pro", limits));
        plans.given(new PlanDefined("pro", "Pro", Limits.NONE)).when(new DefinePlan("pro", "Pro", limits))
                .expectEvents(new PlanDefined("pro", "Pro", limits));
    }

    @Test
    void allowingUnpricedModelsIsAChangeOfThePlanAndAbsentMeansNo() {
        plans.given(new PlanDefined("pro", "Pro", Limits.NONE)).when(new DefinePlan("pro", "Pro", Limits.NONE, true))
                .expectEvents(new PlanDefined("pro", "Pro", Limits.NONE, true));
        plans.given(new PlanDefined("pro", "Pro", Limits.NONE, true)).when(new DefinePlan("pro", "Pro", Limits.NONE))
                .expectEvents(new PlanDefined("pro", "Pro", Limits.NONE, null));
        plans.given(new PlanDefined("pro", "Pro", Limits.NONE, false)).when(new DefinePlan("pro", "Pro", Limits.NONE, false))
                .expectNoEvents();
    }

    @Test
    void aPlansBillingModeIsAChangeOfThePlanAndAbsentMeansPostpaid() {
        plans.given(new PlanDefined("starter", "Starter", Limits.NONE))
                .when(new DefinePlan("starter", "Starter", Limits.NONE, false, BillingMode.PREPAID))
                .expectEvents(new PlanDefined("starter", "Starter", Limits.NONE, null, BillingMode.PREPAID));
        plans.given(new PlanDefined("starter", "Starter", Limits.NONE, null, BillingMode.PREPAID))
                .when(new DefinePlan("starter", "Starter", Limits.NONE, false, BillingMode.PREPAID))
                .expectNoEvents();
        plans.given(new PlanDefined("starter", "Starter", Limits.NONE, null, BillingMode.PREPAID))
                .when(new DefinePlan("starter", "Starter", Limits.NONE))
                .expectEvents(new PlanDefined("starter", "Starter", Limits.NONE, null, null));
        plans.given(new PlanDefined("starter", "Starter", Limits.NONE))
                .when(new DefinePlan("starter", "Starter", Limits.NONE, false, BillingMode.POSTPAID))
                .expectNoEvents();
    }

    @Test
    void redefiningAPlanUnchangedEmitsNothing() {
        plans.given(new PlanDefined("pro", "Pro", Limits.NONE)).when(new DefinePlan("pro", "Pro", null))
                .expectNoEvents();
    }
}
