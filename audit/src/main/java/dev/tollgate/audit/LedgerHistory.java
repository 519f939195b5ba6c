package dev.tollgate.audit;

import dev.tollgate.billing.PlanHistory;
import dev.tollgate.billing.PriceBook;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.credit.BillingModes;
import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.topic.Topics;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the ledger's event log says about pricing, rebuilt from {@code ledger.events.v1} alone:
 * each tenant's billing zone and currency, which plan it was on when, and every plan's price lists
 * over time. The audit prices each usage event with the list in force at the event's time for the
 * plan the tenant was on at that time.
 */
public final class LedgerHistory {
    private final Map<String, ZoneId> zones = new HashMap<>();
    private final Map<String, String> currencies = new HashMap<>();
    private final Map<String, PlanHistory> plans = new HashMap<>();
    private final PriceBook prices = new PriceBook();
    /** Each tenant's credit grants (voided ones with their void time) and billing-mode history, in the ledger's order. */
    private final Map<String, List<CreditGrant>> credits = new HashMap<>();
    /** Each tenant's own mode choices, and each plan's mode history (from its definitions' times). */
    private final Map<String, List<BillingModes.Choice>> modeChoices = new HashMap<>();
    private final Map<String, List<BillingModePeriod>> planModes = new HashMap<>();
    /** Each tenant's plan assignments with the times the ledger recorded them (a backfilled one decides the mode from then). */
    private final Map<String, List<BillingModes.Assignment>> assignments = new HashMap<>();
    private long events;
    private final List<String> undecodable = new ArrayList<>();

    /** Applies one ledger event (others than tenants, plans and prices are ignored). */
    public void apply(CloudEvent<EventData> event) {
        events++;
        switch (event.data()) {
            case TenantCreated created -> {
                zones.put(created.tenantId(), ZoneId.of(created.billingTimeZone()));
                currencies.put(created.tenantId(), created.currency());
            }
            case PlanAssigned assigned -> {
                plans.put(assigned.tenantId(), plans.getOrDefault(assigned.tenantId(), PlanHistory.empty())
                        .with(new PlanPeriod(assigned.planId(), assigned.effectiveFrom())));
                assignments.computeIfAbsent(assigned.tenantId(), t -> new ArrayList<>())
                        .add(new BillingModes.Assignment(assigned.planId(), assigned.effectiveFrom(), event.time()));
            }
            case PriceListPublished list -> prices.add(list);
            case CreditGranted g -> credits.computeIfAbsent(g.tenantId(), t -> new ArrayList<>()).add(CreditGrant.of(g));
            case CreditVoided v -> credits.getOrDefault(v.tenantId(), new ArrayList<>()).replaceAll(c -> c.grantId().equals(v.grantId())
                    ? c.voidedAt(v.voidedAt()) : c);
            case CreditReduced r -> credits.getOrDefault(r.tenantId(), new ArrayList<>()).replaceAll(c -> c.grantId().equals(r.grantId())
                    ? c.reducedTo(r.amountMicros(), r.reducedAt()) : c);
            case BillingModeSet m -> modeChoices.computeIfAbsent(m.tenantId(), t -> new ArrayList<>())
                    .add(new BillingModes.Choice(m.mode(), m.effectiveFrom()));
            case BillingModeCleared m -> modeChoices.computeIfAbsent(m.tenantId(), t -> new ArrayList<>())
                    .add(new BillingModes.Choice(null, m.effectiveFrom()));
            case PlanDefined plan -> planModes.put(plan.planId(),
                    BillingModes.withPlanMode(planModes.getOrDefault(plan.planId(), List.of()), plan.mode(), event.time()));
            default -> { }
        }
    }

    /** The tenant's grants as the ledger's log says, voids and reductions applied. */
    public List<CreditGrant> credits(String tenantId) {
        return List.copyOf(credits.getOrDefault(tenantId, List.of()));
    }

    /** The tenant's billing-mode history, oldest first: its own choices, else its plans' modes ({@link BillingModes}). */
    public List<BillingModePeriod> modes(String tenantId) {
        return BillingModes.effective(modeChoices.get(tenantId), assignments.get(tenantId), planModes);
    }

    /** Every tenant that is ever prepaid or hybrid, by a mode of its own or of its plan. */
    public Set<String> tenantsWithModes() {
        var tenants = new HashSet<String>(modeChoices.keySet());
        tenants.addAll(assignments.keySet());
        tenants.removeIf(t -> modes(t).isEmpty());
        return Set.copyOf(tenants);
    }

    public ZoneId zone(String tenantId) {
        return zones.getOrDefault(tenantId, ZoneId.of("UTC"));
    }

    public String currency(String tenantId) {
        return currencies.getOrDefault(tenantId, "USD");
    }

    /** The price list in force at {@code time} for the plan {@code tenantId} was on at {@code time}. */
    public Optional<PriceSchedule.PriceList> priceListAt(String tenantId, Instant time) {
        return prices.priceListAt(plans.getOrDefault(tenantId, PlanHistory.empty()), time);
    }

    /**
     * Counts a ledger record that does not decode (malformed, or of a schema newer than this audit).
     * Pricing may depend on it (a price list, a plan assignment), so it is never skipped silently.
     */
    public void undecodable(SourceRecord record, String reason) {
        undecodable.add(Topics.LEDGER_EVENTS.name() + "-" + record.partition() + "@" + record.offset() + ": " + reason);
    }

    /** Where each undecodable ledger record is, and why. */
    public List<String> undecodable() {
        return List.copyOf(undecodable);
    }

    public long events() {
        return events;
    }
}
