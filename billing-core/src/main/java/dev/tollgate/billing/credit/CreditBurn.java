package dev.tollgate.billing.credit;

import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What prepaid usage burns of a tenant's credit grants (ADR 0027): the one rule, used by the
 * projector (live balance), the gateway (what is left to admit against) and the audit replay.
 *
 * <p>A grant pays for usage whose event time is at or after its {@code grantedAt} and before its
 * expiry and its void, of the models it names (all when it names none), at the endpoints it names (all
 * when it names none), up to its amount at that time (a partial refund lowers it from its time on). Of the grants that can pay,
 * the one expiring first burns first, then the lowest priority number, then the oldest, then the
 * smallest id. Usage no grant can pay for is <em>unfunded</em> in PREPAID mode (the gateway's
 * overshoot, paid first by the next grant that can pay for usage of any model) and goes to the invoice
 * in HYBRID mode. Amounts are exact decimals of micro-units; published figures round what was burned
 * up, so a balance never shows more than is left.
 *
 * @param used     per grant id, what usage burned of it (exact)
 * @param unfunded PREPAID usage no grant covered yet (exact)
 */
public record CreditBurn(Map<String, BigDecimal> used, BigDecimal unfunded) {
    public static final CreditBurn NONE = new CreditBurn(Map.of(), BigDecimal.ZERO);

    private static final Comparator<CreditGrant> BURN_ORDER = Comparator
            .comparing(CreditGrant::expiresAt, Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparingInt(CreditGrant::priority)
            .thenComparing(CreditGrant::grantedAt)
            .thenComparing(CreditGrant::grantId);

    public CreditBurn {
        used = Map.copyOf(used);
        if (unfunded.signum() < 0) {
            throw new IllegalArgumentException("unfunded is never negative");
        }
    }

    /**
     * What one usage event did to the burn: the new burn; what the event's own cost took from each grant and left unfunded
     * ({@code credit}: null in POSTPAID; unfunded usage of earlier events that this event's grants paid is not part of it);
     * and the part of its cost left for the invoice (HYBRID's overage, POSTPAID's whole cost).
     */
    public record Applied(CreditBurn burn, CreditApplied credit, BigDecimal invoicedMicros) {}

    /** The tenant's billing mode at {@code time} (POSTPAID for a tenant without a mode history). */
    public static BillingMode modeAt(TenantState tenant, Instant time) {
        return modeAt(tenant == null ? null : tenant.billingModes(), time);
    }

    /** The mode of {@code history} (oldest first) in force at {@code time}; POSTPAID before the first or without any. */
    public static BillingMode modeAt(List<BillingModePeriod> history, Instant time) {
        BillingMode mode = BillingMode.POSTPAID;
        if (history != null) {
            for (BillingModePeriod period : history) {
                if (!period.effectiveFrom().isAfter(time)) {
                    mode = period.mode();
                }
            }
        }
        return mode;
    }

    /**
     * True if {@code grant} can pay for usage of {@code model} (any model when null) at {@code endpoint} (any endpoint when
     * null: a total, or usage of an older gateway that did not say) at {@code time}.
     */
    public static boolean pays(CreditGrant grant, String model, Endpoint endpoint, Instant time) {
        return !grant.grantedAt().isAfter(time)
                && (grant.expiresAt() == null || time.isBefore(grant.expiresAt()))
                && (grant.voidedAt() == null || time.isBefore(grant.voidedAt()))
                && (model == null || grant.models().isEmpty() || grant.models().contains(model))
                && (endpoint == null || grant.endpoints().isEmpty() || grant.endpoints().contains(endpoint));
    }

    /**
     * Burns {@code costMicros} of usage of {@code model} at {@code endpoint} and {@code time} in {@code mode}: first any
     * unfunded usage (from any grant that can pay at that time), then the cost. POSTPAID burns nothing.
     */
    public Applied apply(List<CreditGrant> grants, BillingMode mode, String model, Endpoint endpoint, Instant time, BigDecimal costMicros) {
        if (!mode.burnsCredits()) {
            return new Applied(this, null, costMicros);
        }
        var burned = new TreeMap<>(used);
        BigDecimal debt = unfunded;
        List<CreditGrant> ordered = grants == null ? List.of() : grants.stream().sorted(BURN_ORDER).toList();
        if (debt.signum() > 0) {
            debt = burn(ordered, burned, null, null, time, debt);
        }
        var afterDebt = new TreeMap<>(burned);
        BigDecimal rest = burn(ordered, burned, model, endpoint, time, costMicros);
        var paid = new TreeMap<String, BigDecimal>();
        burned.forEach((id, amount) -> {
            BigDecimal taken = amount.subtract(afterDebt.getOrDefault(id, BigDecimal.ZERO));
            if (taken.signum() > 0) {
                paid.put(id, taken);
            }
        });
        if (mode == BillingMode.PREPAID) {
            return new Applied(new CreditBurn(burned, debt.add(rest)), new CreditApplied(mode, paid, rest), BigDecimal.ZERO);
        }
        return new Applied(new CreditBurn(burned, debt), new CreditApplied(mode, paid, BigDecimal.ZERO), rest);
    }

    /** Burns {@code amount} from the grants that pay for {@code model} at {@code endpoint} and {@code time}, in order; returns what none could pay. */
    private static BigDecimal burn(List<CreditGrant> ordered, Map<String, BigDecimal> burned, String model, Endpoint endpoint, Instant time,
                                   BigDecimal amount) {
        BigDecimal rest = amount;
        for (CreditGrant grant : ordered) {
            if (rest.signum() <= 0) {
                break;
            }
            if (!pays(grant, model, endpoint, time)) {
                continue;
            }
            BigDecimal already = burned.getOrDefault(grant.grantId(), BigDecimal.ZERO);
            BigDecimal left = BigDecimal.valueOf(grant.amountAt(time)).subtract(already);
            if (left.signum() <= 0) {
                continue;
            }
            BigDecimal take = left.min(rest);
            burned.put(grant.grantId(), already.add(take));
            rest = rest.subtract(take);
        }
        return rest;
    }

    /** Per grant, what was burned, rounded up to whole micro-units (as published on the quota state). */
    public Map<String, Long> usedMicros() {
        var rounded = new TreeMap<String, Long>();
        used.forEach((id, amount) -> rounded.put(id, amount.setScale(0, RoundingMode.CEILING).longValueExact()));
        return rounded;
    }

    /** The unfunded usage rounded up to whole micro-units. */
    public long unfundedMicros() {
        return unfunded.setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /** Everything prepaid usage burned or left unfunded, rounded down (the state's {@code usedSpendMicros}). */
    public long consumedMicros() {
        return used.values().stream().reduce(unfunded, BigDecimal::add).setScale(0, RoundingMode.FLOOR).longValueExact();
    }

    /**
     * What is left for usage of {@code model} (any model when null) at {@code endpoint} (any when null) and {@code time}:
     * the unburned part of every grant that pays for it, less the unfunded usage; never below zero. {@code usedMicros}
     * and {@code unfundedMicros} as published (rounded up).
     */
    public static long remainingMicros(List<CreditGrant> grants, Map<String, Long> usedMicros, long unfundedMicros, String model,
                                       Endpoint endpoint, Instant time) {
        long left = 0;
        if (grants != null) {
            for (CreditGrant grant : grants) {
                if (pays(grant, model, endpoint, time)) {
                    long used = usedMicros == null ? 0 : usedMicros.getOrDefault(grant.grantId(), 0L);
                    left += Math.max(0, grant.amountAt(time) - used);
                }
            }
        }
        return Math.max(0, left - unfundedMicros);
    }
}
