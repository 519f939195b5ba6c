package dev.tollgate.billing;

import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.TenantState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The plan in force at an instant, and the price book that prices usage by it. */
class PlanHistoryTest {
    private static final Instant NOV = Instant.parse("2026-11-01T00:00:00Z");
    private static final Instant DEC = Instant.parse("2026-12-01T00:00:00Z");
    private static final Instant CREATED = Instant.parse("2026-11-10T09:00:00Z");

    private static TenantState tenant(String planId, List<PlanPeriod> plans) {
        return new TenantState("acme", "Acme", TenantState.Status.ACTIVE, planId, "UTC", "USD", null, null, null, 1, CREATED, plans);
    }

    @Test
    void aPlanScheduledForNextMonthChangesNothingBeforeIt() {
        var history = PlanHistory.of(tenant("dev", List.of(new PlanPeriod("dev", CREATED), new PlanPeriod("gold", DEC))));
        assertThat(history.planAt(DEC.minusNanos(1))).contains("dev");
        assertThat(history.planAt(DEC)).contains("gold");
        assertThat(history.planAt(CREATED)).contains("dev");
    }

    @Test
    void theNextSwitchIsTheFirstAssignmentEffectiveAfterTheGivenTime() {
        var history = PlanHistory.of(List.of(new PlanPeriod("dev", CREATED), new PlanPeriod("gold", DEC)));
        assertThat(history.nextSwitchAfter(CREATED)).contains(DEC);
        assertThat(history.nextSwitchAfter(CREATED.minusSeconds(1))).contains(CREATED);
        assertThat(history.nextSwitchAfter(DEC)).as("at its own instant a switch has happened").isEmpty();
        assertThat(PlanHistory.empty().nextSwitchAfter(NOV)).isEmpty();
    }

    @Test
    void usageBeforeTheFirstAssignmentIsPricedWithTheFirstPlan() {
        var history = PlanHistory.of(tenant("dev", List.of(new PlanPeriod("dev", CREATED), new PlanPeriod("gold", DEC))));
        assertThat(history.planAt(CREATED.minusSeconds(5))).contains("dev");
    }

    @Test
    void aStatePublishedBeforeHistoriesExistedHasItsPlanFromTheBeginning() {
        var history = PlanHistory.of(tenant("dev", null));
        assertThat(history.planAt(Instant.parse("2020-01-01T00:00:00Z"))).contains("dev");
        assertThat(PlanHistory.of(tenant(null, null)).planAt(DEC)).isEmpty();
        assertThat(PlanHistory.of((TenantState) null).planAt(DEC)).isEmpty();
    }

    @Test
    void aLaterAssignmentWithTheSameEffectiveTimeReplacesTheEarlierAndOrderOfArrivalDoesNotMatterOtherwise() {
        var history = PlanHistory.of(List.of(new PlanPeriod("gold", DEC), new PlanPeriod("dev", CREATED), new PlanPeriod("silver", DEC)));
        assertThat(history.periods()).containsExactly(new PlanPeriod("dev", CREATED), new PlanPeriod("silver", DEC));
        // Unordered entries in a state are sorted rather than trusted.
        assertThat(PlanHistory.of(tenant("dev", List.of(new PlanPeriod("gold", DEC), new PlanPeriod("dev", CREATED)))).planAt(CREATED))
                .contains("dev");
    }

    @Test
    void thePriceBookPricesEachInstantWithTheListInForceForThePlanInForce() {
        var book = new PriceBook()
                .add(new PriceListPublished("dev-nov", "dev", "USD", NOV, false, List.of(new ModelPrice("m", 1, 1, 1))))
                .add(new PriceListPublished("gold-nov", "gold", "USD", NOV, false, List.of(new ModelPrice("m", 100, 100, 100))))
                .add(new PriceListPublished("gold-dec", "gold", "USD", DEC, false, List.of(new ModelPrice("m", 200, 200, 200))));
        var history = PlanHistory.of(List.of(new PlanPeriod("dev", CREATED), new PlanPeriod("gold", DEC)));

        assertThat(book.priceListAt(history, DEC.minusSeconds(1))).map(PriceSchedule.PriceList::priceListId).contains("dev-nov");
        assertThat(book.priceListAt(history, DEC)).map(PriceSchedule.PriceList::priceListId).contains("gold-dec");
        assertThat(book.ratesAt(history, "m", DEC)).contains(new PriceSchedule.ModelRates(200, 200, 200));
        assertThat(book.ratesAt(history, "unpriced", DEC)).isEmpty();
        assertThat(book.priceListAt(PlanHistory.of(List.of(new PlanPeriod("none", NOV))), DEC)).isEmpty();
    }
}
