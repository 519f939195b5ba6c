package dev.tollgate.billing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns the billable usage of one tenant and billing period into priced invoice lines: the same
 * function for the projector and the audit replay. Lines are keyed by (model, price unit, price list
 * in force at the event's time), so a price change within the period splits a model's line; quantities
 * are summed exactly and each line is rounded once (ADR 0003). A repeated event id is counted once.
 * Usage of a model that no price list in force prices is reported, never silently billed at zero.
 */
public final class InvoiceCalculator {
    private final PriceSchedule prices;
    private final Map<LineKey, Accumulator> lines = new TreeMap<>();
    private final TreeSet<String> seen = new TreeSet<>();
    private final List<BillableUsage> unpriced = new ArrayList<>();

    /** {@code adjusts} is "" for the period's own usage, else the closed period a late event belonged to. */
    private record LineKey(String adjusts, String model, PriceUnit kind, String priceListId) implements Comparable<LineKey> {
        private static final Comparator<LineKey> ORDER = Comparator.comparing(LineKey::adjusts).thenComparing(LineKey::model)
                .thenComparing(LineKey::kind).thenComparing(LineKey::priceListId);

        @Override
        public int compareTo(LineKey other) {
            return ORDER.compare(this, other);
        }
    }

    private static final class Accumulator {
        final long unitPrice;
        long quantity;
        long events;
        Instant first;
        Instant last;
        final TreeSet<String> eventIds = new TreeSet<>();

        Accumulator(long unitPrice) {
            this.unitPrice = unitPrice;
        }
    }

    /** A calculator that prices each event with the list of {@code prices} in force at its time (the audit replay). */
    public InvoiceCalculator(PriceSchedule prices) {
        this.prices = prices;
    }

    /** A calculator for events priced already ({@link #addPriced}; the invoice writer). */
    public InvoiceCalculator() {
        this.prices = null;
    }

    /** Adds one event's usage; false if its id was already counted. */
    public boolean add(BillableUsage usage) {
        return add(usage, null);
    }

    /**
     * Adds one late event's usage as an adjustment: it is priced at its own time, like any event,
     * but lands on separate lines marked with {@code adjustsPeriod}, the closed period it belonged
     * to. A null {@code adjustsPeriod} is the period's own usage.
     */
    public boolean add(BillableUsage usage, String adjustsPeriod) {
        if (prices == null) {
            throw new IllegalStateException("this calculator has no price schedule: use addPriced");
        }
        Optional<PriceSchedule.PriceList> list = prices.inForceAt(usage.time());
        PriceSchedule.ModelRates rates = list.map(l -> l.rates().get(usage.model())).orElse(null);
        return addPriced(usage, adjustsPeriod, rates == null ? null : list.get().priceListId(), rates);
    }

    /**
     * Adds one event already priced (by the projector, at the event's time) with {@code rates} of
     * price list {@code priceListId}; null rates mean no list priced it (reported, not billed).
     */
    public boolean addPriced(BillableUsage usage, String adjustsPeriod, String priceListId, PriceSchedule.ModelRates rates) {
        if (!seen.add(usage.eventId())) {
            return false;
        }
        if (rates == null) {
            unpriced.add(usage);
            return true;
        }
        for (PriceUnit kind : PriceUnit.values()) {
            long quantity = kind.quantityOf(usage.counts(), rates);
            if (quantity == 0) {
                continue;
            }
            long unitPrice = kind.microsPerMillion(rates);
            Accumulator line = lines.computeIfAbsent(new LineKey(adjustsPeriod == null ? "" : adjustsPeriod, usage.model(), kind,
                            priceListId), key -> new Accumulator(unitPrice));
            if (line.unitPrice != unitPrice) {
                throw new IllegalArgumentException("price list " + priceListId + " priced " + usage.model() + " " + kind
                        + " at two different rates (event " + usage.eventId() + ")");
            }
            line.quantity = Math.addExact(line.quantity, quantity);
            line.events++;
            line.first = line.first == null || usage.time().isBefore(line.first) ? usage.time() : line.first;
            line.last = line.last == null || usage.time().isAfter(line.last) ? usage.time() : line.last;
            line.eventIds.add(usage.eventId());
        }
        return true;
    }

    /** The sorted event ids behind each line, in {@link #lines()} order: what an invoice stores for auditors. */
    public List<List<String>> lineEventIds() {
        return lines.values().stream().map(line -> List.copyOf(line.eventIds)).toList();
    }

    /** The priced lines, in a stable order (own usage first, then adjustments; model, kind, price list). */
    public List<InvoiceLine> lines() {
        var result = new ArrayList<InvoiceLine>();
        lines.forEach((key, line) -> result.add(new InvoiceLine(key.model(), key.kind(), key.priceListId(), line.quantity,
                line.unitPrice, Money.lineAmountMicros(line.quantity, line.unitPrice), line.events, line.first, line.last,
                digest(line.eventIds), key.adjusts().isEmpty() ? null : key.adjusts())));
        return result;
    }

    /** The invoice total: the sum of the rounded lines. */
    public long totalMicros() {
        return lines().stream().mapToLong(InvoiceLine::amountMicros).reduce(0, Math::addExact);
    }

    /** Usage that no price list in force priced (an operator error to surface, not to bill at zero). */
    public List<BillableUsage> unpriced() {
        return List.copyOf(unpriced);
    }

    /**
     * SHA-256 over the sorted event ids, each followed by a newline, in hex: what an auditor
     * recomputes to prove which events a line covers.
     */
    public static String digest(Iterable<String> sortedEventIds) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            for (String id : sortedEventIds) {
                sha256.update(id.getBytes(StandardCharsets.UTF_8));
                sha256.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha256.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
