package dev.tollgate.billing.credit;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The credits applied on one invoice (ADR 0028), from what credit did for each of its events: the same class for the
 * invoice writer (finalization and drafts) and the audit replay. The invoice's lines stay what the usage costs; after them
 * come the credits applied per grant, the prepaid usage no grant paid ("unfunded": owed to the balance, paid by the next
 * grant, so never due), then the amount due.
 *
 * <p>The rule, so that every figure is a whole micro-unit and they add up: when no event's cost was covered, the amount due
 * is the invoice's total. Otherwise it is the exact uncovered cost of its events (HYBRID overage, usage billed POSTPAID)
 * rounded once, half-even, never above the total; the credits applied are the rest of the total, split over the grants
 * and the unfunded part in proportion to what each covered exactly (largest remainder; ties to the grant id's order, the
 * unfunded part last). A repeated event id counts once.
 */
public final class InvoiceCredits {
    /** One credit line: a grant ({@code grantId}), or the unfunded part ({@code grantId} null). */
    public record Credit(String grantId, long amountMicros) {
        public boolean unfunded() {
            return grantId == null;
        }
    }

    /** The credit lines (none when nothing was covered), what they add up to, and what is left to pay. */
    public record Summary(List<Credit> credits, long creditedMicros, long amountDueMicros) {
        public Summary {
            credits = List.copyOf(credits);
        }
    }

    private final Map<String, BigDecimal> grants = new TreeMap<>();
    private final Set<String> seen = new HashSet<>();
    private BigDecimal unfunded = BigDecimal.ZERO;
    private BigDecimal uncovered = BigDecimal.ZERO;
    private boolean covered;

    /** Adds one event: its exact cost and what credit did for it (null: nothing, as in POSTPAID). */
    public void add(String eventId, BigDecimal costMicros, CreditApplied credit) {
        if (!seen.add(eventId)) {
            return;
        }
        BigDecimal rest = costMicros;
        if (credit != null) {
            credit.grants().forEach((id, amount) -> grants.merge(id, amount, BigDecimal::add));
            unfunded = unfunded.add(credit.unfunded());
            rest = rest.subtract(credit.coveredMicros());
            covered |= credit.coveredMicros().signum() > 0;
        }
        // A backfill may re-price an event after its credit was applied (ADR 0027): what credit covered stays covered.
        uncovered = uncovered.add(rest.max(BigDecimal.ZERO));
    }

    /** The credits and the amount due of an invoice whose lines total {@code totalMicros}. */
    public Summary summary(long totalMicros) {
        if (!covered) {
            return new Summary(List.of(), 0, totalMicros);
        }
        long due = Math.min(totalMicros, uncovered.setScale(0, RoundingMode.HALF_EVEN).longValueExact());
        var ids = new ArrayList<String>();
        var parts = new ArrayList<BigDecimal>();
        grants.forEach((id, amount) -> {
            ids.add(id);
            parts.add(amount);
        });
        if (unfunded.signum() > 0) {
            ids.add(null);
            parts.add(unfunded);
        }
        long[] amounts = apportion(parts, totalMicros - due);
        var credits = new ArrayList<Credit>();
        for (int i = 0; i < amounts.length; i++) {
            if (amounts[i] != 0) {
                credits.add(new Credit(ids.get(i), amounts[i]));
            }
        }
        return new Summary(credits, totalMicros - due, due);
    }

    /**
     * Splits {@code target} (whole units, not negative) over {@code parts} (exact, not negative, at least one positive when
     * target is positive) in proportion, largest remainder first, ties to the earlier part: the amounts add up to target.
     */
    public static long[] apportion(List<BigDecimal> parts, long target) {
        if (target < 0) {
            throw new IllegalArgumentException("cannot apportion a negative amount: " + target);
        }
        BigDecimal whole = parts.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
        long[] amounts = new long[parts.size()];
        if (target == 0) {
            return amounts;
        }
        if (whole.signum() <= 0) {
            throw new IllegalArgumentException("nothing to apportion " + target + " over");
        }
        BigDecimal total = BigDecimal.valueOf(target);
        var remainders = new BigDecimal[parts.size()];
        long given = 0;
        for (int i = 0; i < parts.size(); i++) {
            BigDecimal share = parts.get(i).multiply(total);
            BigDecimal[] division = share.divideAndRemainder(whole);
            amounts[i] = division[0].longValueExact();
            remainders[i] = division[1];
            given += amounts[i];
        }
        long left = target - given;
        int[] order = IntStream.range(0, parts.size()).boxed()
                .sorted(Comparator.<Integer, BigDecimal>comparing(i -> remainders[i]).reversed().thenComparing(i -> i))
                .mapToInt(Integer::intValue).toArray();
        for (int k = 0; k < left; k++) {
            amounts[order[k]]++;
        }
        return amounts;
    }

    /**
     * The credit lines in the currency's minor units, for Stripe: the invoice's lines go to Stripe rounded one by one
     * ({@code linesMinorUnits} their sum), so the credit items are what brings that sum to the amount due in minor units
     * ({@code dueMinorUnits}), split over the credit lines as above; none when that is not a reduction.
     */
    public static long[] minorUnits(List<Credit> credits, long linesMinorUnits, long dueMinorUnits) {
        long reduction = linesMinorUnits - dueMinorUnits;
        if (reduction <= 0 || credits.isEmpty()) {
            return new long[credits.size()];
        }
        return apportion(credits.stream().map(c -> BigDecimal.valueOf(c.amountMicros())).toList(), reduction);
    }
}
