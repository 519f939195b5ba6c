package dev.tollgate.billing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The price lists of one plan over time. A price list is in force from its {@code effectiveFrom}
 * until the next one's; a usage event is priced with the list in force at the event's time. Lists
 * are never edited: publishing one with the same {@code effectiveFrom} as another is refused.
 */
public final class PriceSchedule {
    private final TreeMap<Instant, PriceList> byEffectiveFrom = new TreeMap<>();

    /**
     * Prices of one model per million units, in micro-units: the three token prices every list has, and the optional
     * ones of ADR 0030 (null: not priced apart; see {@link PriceUnit}).
     */
    public record ModelRates(long inputMicros, long cachedInputMicros, long outputMicros, Long cacheWriteInputMicros,
                             Long reasoningMicros, Long audioSecondMicros, Long documentMicros, Long requestMicros) {
        public ModelRates {
            if (inputMicros < 0 || cachedInputMicros < 0 || outputMicros < 0 || negative(cacheWriteInputMicros)
                    || negative(reasoningMicros) || negative(audioSecondMicros) || negative(documentMicros) || negative(requestMicros)) {
                throw new IllegalArgumentException("prices are never negative");
            }
        }

        /** The three token prices only. */
        public ModelRates(long inputMicros, long cachedInputMicros, long outputMicros) {
            this(inputMicros, cachedInputMicros, outputMicros, null, null, null, null, null);
        }

        private static boolean negative(Long price) {
            return price != null && price < 0;
        }
    }

    /** One published price list. */
    public record PriceList(String priceListId, Instant effectiveFrom, Map<String, ModelRates> rates) {
        public PriceList {
            Objects.requireNonNull(priceListId, "priceListId");
            Objects.requireNonNull(effectiveFrom, "effectiveFrom");
            rates = Map.copyOf(rates);
        }
    }

    /** Adds a price list. Adding the very same list again is a no-op (replays are idempotent). */
    public PriceSchedule add(PriceList list) {
        PriceList existing = byEffectiveFrom.get(list.effectiveFrom());
        if (existing != null && !existing.equals(list)) {
            throw new IllegalArgumentException("price lists " + existing.priceListId() + " and " + list.priceListId()
                    + " both take effect at " + list.effectiveFrom());
        }
        byEffectiveFrom.put(list.effectiveFrom(), list);
        return this;
    }

    /** The list in force at {@code time}, if any was published before it. */
    public Optional<PriceList> inForceAt(Instant time) {
        var entry = byEffectiveFrom.floorEntry(time);
        return entry == null ? Optional.empty() : Optional.of(entry.getValue());
    }

    /** The rates of {@code model} at {@code time}, if a list in force then prices it. */
    public Optional<ModelRates> ratesAt(String model, Instant time) {
        return inForceAt(time).map(list -> list.rates().get(model));
    }

    /**
     * The lists that are in force at some point of {@code [from, to)}, oldest first: each one
     * becomes a separate invoice line segment when prices change mid-period.
     */
    public List<PriceList> inForceDuring(Instant from, Instant to) {
        var result = new ArrayList<PriceList>();
        inForceAt(from).ifPresent(result::add);
        result.addAll(byEffectiveFrom.subMap(from, false, to, false).values());
        result.sort(Comparator.comparing(PriceList::effectiveFrom));
        return Collections.unmodifiableList(result);
    }
}
