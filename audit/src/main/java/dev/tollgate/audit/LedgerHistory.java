package dev.tollgate.audit;

import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;

import java.time.Instant;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the ledger's event log says about pricing, rebuilt from {@code ledger.events.v1} alone:
 * each tenant's billing zone and currency, which plan it was on when, and every plan's price lists
 * over time. The audit prices each usage event with the list in force at the event's time for the
 * plan the tenant was on at that time.
 */
public final class LedgerHistory {
    private final Map<String, ZoneId> zones = new HashMap<>();
    private final Map<String, String> currencies = new HashMap<>();
    private final Map<String, TreeMap<Instant, String>> plans = new HashMap<>();
    private final Map<String, PriceSchedule> schedules = new HashMap<>();
    private long events;

    /** Applies one ledger event (others than tenants, plans and prices are ignored). */
    public void apply(CloudEvent<EventData> event) {
        events++;
        switch (event.data()) {
            case TenantCreated created -> {
                zones.put(created.tenantId(), ZoneId.of(created.billingTimeZone()));
                currencies.put(created.tenantId(), created.currency());
            }
            case PlanAssigned assigned -> plans.computeIfAbsent(assigned.tenantId(), t -> new TreeMap<>())
                    .put(assigned.effectiveFrom(), assigned.planId());
            case PriceListPublished list -> {
                var rates = new HashMap<String, PriceSchedule.ModelRates>();
                for (ModelPrice price : list.prices()) {
                    rates.put(price.model(), new PriceSchedule.ModelRates(price.inputMicrosPerMillionTokens(),
                            price.cachedInputMicrosPerMillionTokens(), price.outputMicrosPerMillionTokens()));
                }
                schedules.computeIfAbsent(list.planId(), p -> new PriceSchedule())
                        .add(new PriceSchedule.PriceList(list.priceListId(), list.effectiveFrom(), rates));
            }
            default -> { }
        }
    }

    public ZoneId zone(String tenantId) {
        return zones.getOrDefault(tenantId, ZoneId.of("UTC"));
    }

    public String currency(String tenantId) {
        return currencies.getOrDefault(tenantId, "USD");
    }

    /** The price list in force at {@code time} for the plan {@code tenantId} was on at {@code time}. */
    public Optional<PriceSchedule.PriceList> priceListAt(String tenantId, Instant time) {
        TreeMap<Instant, String> history = plans.get(tenantId);
        if (history == null) {
            return Optional.empty();
        }
        var plan = history.floorEntry(time);
        // A plan assigned with an effective time after the usage still prices it if it is the only one.
        String planId = plan != null ? plan.getValue() : history.firstEntry().getValue();
        PriceSchedule schedule = schedules.get(planId);
        return schedule == null ? Optional.empty() : schedule.inForceAt(time);
    }

    public long events() {
        return events;
    }
}
