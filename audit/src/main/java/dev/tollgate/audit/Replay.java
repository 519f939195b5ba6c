package dev.tollgate.audit;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.InvoiceCalculator;
import dev.tollgate.billing.PeriodAssignment;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.billing.credit.CreditApplied;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.billing.credit.InvoiceCredits;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Recomputes one billing period's invoices from {@code usage.v1}, with the projector's own rules
 * and code (ADR 0008): what each event bills ({@link UsageBilling}), deduplication by event id, the
 * invoice period by partition stream time and grace ({@link PeriodAssignment}), the price in force
 * at the event's time ({@link LedgerHistory}), the lines, rounding and digests
 * ({@link InvoiceCalculator}), and the credits applied ({@link CreditBurn} over every earlier event
 * of the tenant, {@link InvoiceCredits}; ADR 0028). Records must come in offset order within each partition.
 */
public final class Replay {
    /** What the replay found for one tenant. */
    public static final class TenantReplay {
        final String tenantId;
        final InvoiceCalculator calculator = new InvoiceCalculator();
        /** What each event on this period's invoice bills, by event id (to compare with what was billed). */
        final Map<String, BillableUsage> usage = new TreeMap<>();
        final Map<String, String> adjusts = new HashMap<>();
        /** The credits applied on this period's invoice (ADR 0028), and what credit did for each of its events. */
        final InvoiceCredits credits = new InvoiceCredits();
        final Map<String, CreditApplied> creditByEvent = new HashMap<>();
        long uncached;
        long cached;
        long completion;

        TenantReplay(String tenantId) {
            this.tenantId = tenantId;
        }

        public InvoiceCalculator calculator() {
            return calculator;
        }

        public Map<String, BillableUsage> usage() {
            return usage;
        }

        public InvoiceCredits credits() {
            return credits;
        }
    }

    private final YearMonth period;
    private final String tenantFilter;
    private final Duration grace;
    private final LedgerHistory ledger;
    private final Map<String, TenantReplay> tenants = new TreeMap<>();
    /** Every event id seen, with a fingerprint of what it bills and where it was first seen. */
    private final Map<String, Seen> seen = new HashMap<>();
    private final Map<Integer, Long> streamTime = new HashMap<>();
    /** Every tenant's credit burn so far, over all periods: what credit pays depends on all earlier usage. */
    private final Map<String, CreditBurn> burns = new HashMap<>();
    private final List<String> problems = new ArrayList<>();
    private long records;
    private long malformed;
    /** The first {@link #MAX_LISTED} malformed usage records, where and why. */
    private final List<String> malformedAt = new ArrayList<>();
    private static final int MAX_LISTED = 20;
    private long duplicates;

    private record Seen(long fingerprint, int partition, long offset) {}

    public Replay(YearMonth period, String tenantFilter, Duration grace, LedgerHistory ledger) {
        this.period = period;
        this.tenantFilter = tenantFilter;
        this.grace = grace;
        this.ledger = ledger;
    }

    /** Feeds one usage.v1 record. */
    public void usage(SourceRecord record) {
        records++;
        CloudEvent<EventData> event;
        try {
            event = EventCodec.decode(record.value());
        } catch (EventFormatException e) {
            malformed++; // the projector sends these to the dead-letter topic: they bill nothing
            if (malformedAt.size() < MAX_LISTED) {
                malformedAt.add(record.topic() + "-" + record.partition() + "@" + record.offset() + ": " + e.getMessage());
            }
            return;
        }
        Optional<BillableUsage> billable = UsageBilling.of(event);
        if (billable.isEmpty()) {
            return;
        }
        BillableUsage usage = billable.get();
        long fingerprint = fingerprint(usage);
        Seen first = seen.putIfAbsent(usage.eventId(), new Seen(fingerprint, record.partition(), record.offset()));
        if (first != null) {
            duplicates++;
            if (first.fingerprint() != fingerprint) {
                problems.add("event id " + usage.eventId() + " (tenant " + usage.tenantId() + ") appears twice with different content: "
                        + "partition " + first.partition() + " offset " + first.offset() + " and partition " + record.partition()
                        + " offset " + record.offset() + "; only the first is billed");
            }
            return;
        }
        Long previous = streamTime.get(record.partition());
        PeriodAssignment assignment = PeriodAssignment.of(usage.time(), ledger.zone(usage.tenantId()),
                previous == null ? null : Instant.ofEpochMilli(previous), grace);
        streamTime.merge(record.partition(), usage.time().toEpochMilli(), Math::max);
        if (tenantFilter != null && !tenantFilter.equals(usage.tenantId())) {
            return;
        }
        Optional<PriceSchedule.PriceList> list = ledger.priceListAt(usage.tenantId(), usage.time());
        PriceSchedule.ModelRates rates = list.map(l -> l.rates().get(usage.model())).orElse(null);
        BigDecimal cost = rates == null ? BigDecimal.ZERO : UsageBilling.exactAmountMicros(usage, rates);
        CreditApplied credit = burn(usage, cost);
        if (!assignment.period().month().equals(period)) {
            return;
        }
        TenantReplay tenant = tenants.computeIfAbsent(usage.tenantId(), TenantReplay::new);
        tenant.credits.add(usage.eventId(), cost, credit);
        if (credit != null) {
            tenant.creditByEvent.put(usage.eventId(), credit);
        }
        String adjusts = assignment.late() ? assignment.adjustsPeriod().id() : null;
        tenant.calculator.addPriced(usage, adjusts, rates == null ? null : list.get().priceListId(), rates);
        tenant.usage.put(usage.eventId(), usage);
        if (adjusts != null) {
            tenant.adjusts.put(usage.eventId(), adjusts);
        }
        tenant.uncached += usage.uncachedPrompt();
        tenant.cached += usage.cachedPrompt();
        tenant.completion += usage.completion();
    }

    /** Burns the event's cost against the tenant's grants if its mode at the event's time burns credit ({@link CreditBurn}). */
    private CreditApplied burn(BillableUsage usage, BigDecimal cost) {
        BillingMode mode = CreditBurn.modeAt(ledger.modes(usage.tenantId()), usage.time());
        if (!mode.burnsCredits()) {
            return null;
        }
        CreditBurn.Applied applied = burns.getOrDefault(usage.tenantId(), CreditBurn.NONE)
                .apply(ledger.credits(usage.tenantId()), mode, usage.model(), usage.endpoint(), usage.time(), cost);
        burns.put(usage.tenantId(), applied.burn());
        return applied.credit();
    }

    static long fingerprint(BillableUsage u) {
        long h = 1125899906842597L;
        for (Object part : new Object[]{u.tenantId(), u.keyId(), u.model(), u.time(), u.counts()}) {
            h = 31 * h + (part == null ? 0 : part.hashCode());
        }
        return h;
    }

    public YearMonth period() {
        return period;
    }

    public Map<String, TenantReplay> tenants() {
        return tenants;
    }

    /** Problems found in the log itself (not against stored invoices). */
    public List<String> problems() {
        return problems;
    }

    public long records() {
        return records;
    }

    public List<String> malformedAt() {
        return List.copyOf(malformedAt);
    }

    public LedgerHistory ledger() {
        return ledger;
    }

    public long malformed() {
        return malformed;
    }

    public long duplicates() {
        return duplicates;
    }

}
