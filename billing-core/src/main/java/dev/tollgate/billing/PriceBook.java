package dev.tollgate.billing;

import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every plan's price lists over time, built from {@code ledger.pricelist.published} events (or the
 * {@code pricelists.state.v1} records, which hold the same data). The one place that turns a
 * published list into rates and finds the rates in force for a tenant's usage: the gateway's spend
 * budgets, the projector's billing decisions and the audit's replay all price through it.
 */
public final class PriceBook {
    private final Map<String, PriceSchedule> byPlan = new HashMap<>();

    /** Adds a published list; the very same list again is a no-op, a different one at the same time is refused ({@link PriceSchedule#add}). */
    public PriceBook add(PriceListPublished published) {
        byPlan.computeIfAbsent(published.planId(), plan -> new PriceSchedule()).add(priceList(published));
        return this;
    }

    /** The rates of a published list. */
    public static PriceSchedule.PriceList priceList(PriceListPublished published) {
        var rates = new HashMap<String, PriceSchedule.ModelRates>();
        for (ModelPrice price : published.prices()) {
            rates.put(price.model(), new PriceSchedule.ModelRates(price.inputMicrosPerMillionTokens(),
                    price.cachedInputMicrosPerMillionTokens(), price.outputMicrosPerMillionTokens(),
                    price.cacheWriteInputMicrosPerMillionTokens(), price.reasoningMicrosPerMillionTokens(),
                    price.audioMicrosPerMillionSeconds(), price.documentMicrosPerMillionDocuments(),
                    price.requestMicrosPerMillionRequests()));
        }
        return new PriceSchedule.PriceList(published.priceListId(), published.effectiveFrom(), rates);
    }

    /** The price lists of one plan, if any was published. */
    public Optional<PriceSchedule> schedule(String planId) {
        return Optional.ofNullable(byPlan.get(planId));
    }

    /** The list in force at {@code time} for the plan the tenant was on at {@code time}. */
    public Optional<PriceSchedule.PriceList> priceListAt(PlanHistory plans, Instant time) {
        return plans.planAt(time).flatMap(this::schedule).flatMap(schedule -> schedule.inForceAt(time));
    }

    /** The rates of {@code model} in force at {@code time} for the tenant's plan then; empty if that list does not price the model. */
    public Optional<PriceSchedule.ModelRates> ratesAt(PlanHistory plans, String model, Instant time) {
        return priceListAt(plans, time).map(list -> list.rates().get(model));
    }
}
