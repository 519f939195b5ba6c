package dev.tollgate.audit;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.billing.credit.CreditStatement;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Recomputes prepaid balances from {@code usage.v1} and the ledger's log alone (ADR 0027), with the
 * projector's own rule ({@link CreditBurn}): every billable event once (by id), in offset order
 * within its partition (a tenant's events share one), of a tenant whose mode at the event's time
 * burns credit, priced exactly at the list in force at its time, burned against the grants the
 * ledger's log holds. With {@code at}, only usage whose event time is not after it counts, and the
 * statement is the balance at that instant.
 */
public final class BalanceReplay {
    private final LedgerHistory ledger;
    private final String tenantFilter;
    private final Instant at;
    private final Set<String> seen = new HashSet<>();
    private final Map<String, CreditBurn> burns = new TreeMap<>();

    public BalanceReplay(LedgerHistory ledger, String tenantFilter, Instant at) {
        this.ledger = ledger;
        this.tenantFilter = tenantFilter;
        this.at = at;
    }

    /** Feeds one usage.v1 record (malformed ones bill nothing: the invoice replay counts them). */
    public void usage(SourceRecord record) {
        CloudEvent<EventData> event;
        try {
            event = EventCodec.decode(record.value());
        } catch (EventFormatException e) {
            return;
        }
        Optional<BillableUsage> billable = UsageBilling.of(event);
        if (billable.isEmpty() || !seen.add(billable.get().eventId())) {
            return;
        }
        BillableUsage usage = billable.get();
        if (tenantFilter != null && !tenantFilter.equals(usage.tenantId()) || at != null && usage.time().isAfter(at)) {
            return;
        }
        BillingMode mode = CreditBurn.modeAt(ledger.modes(usage.tenantId()), usage.time());
        if (!mode.burnsCredits()) {
            return;
        }
        PriceSchedule.ModelRates rates = ledger.priceListAt(usage.tenantId(), usage.time()).map(l -> l.rates().get(usage.model())).orElse(null);
        BigDecimal cost = rates == null ? BigDecimal.ZERO : UsageBilling.exactAmountMicros(usage, rates);
        CreditBurn before = burns.getOrDefault(usage.tenantId(), CreditBurn.NONE);
        burns.put(usage.tenantId(), before.apply(ledger.credits(usage.tenantId()), mode, usage.model(), usage.endpoint(), usage.time(), cost).burn());
    }

    /** The burn of every tenant that burned credit. */
    public Map<String, CreditBurn> burns() {
        return Map.copyOf(burns);
    }

    /** The tenant's statement at {@code when}: its grants, what the replayed usage burned of each, what is left. */
    public CreditStatement statement(String tenantId, Instant when) {
        return CreditStatement.of(tenantId, ledger.currency(tenantId), CreditBurn.modeAt(ledger.modes(tenantId), when), ledger.credits(tenantId),
                burns.getOrDefault(tenantId, CreditBurn.NONE), when);
    }
}
