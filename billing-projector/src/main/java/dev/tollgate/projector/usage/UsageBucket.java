package dev.tollgate.projector.usage;

import dev.tollgate.billing.BillableUsage;

import java.math.BigDecimal;

/**
 * Usage counted in one window (a minute or a day) for one tenant, key and model: tokens by kind,
 * billable events, and spend as an exact decimal of micro-units (rounded only when an invoice line
 * is, ADR 0003). Stored as a space-separated string.
 */
public record UsageBucket(long uncachedPrompt, long cachedPrompt, long completion, long events, BigDecimal spendMicros) {
    public static final UsageBucket EMPTY = new UsageBucket(0, 0, 0, 0, BigDecimal.ZERO);

    public UsageBucket plus(BillableUsage usage, BigDecimal spend) {
        return new UsageBucket(Math.addExact(uncachedPrompt, usage.uncachedPrompt()), Math.addExact(cachedPrompt, usage.cachedPrompt()),
                Math.addExact(completion, usage.completion()), events + 1, spendMicros.add(spend));
    }

    public UsageBucket plus(UsageBucket other) {
        return new UsageBucket(Math.addExact(uncachedPrompt, other.uncachedPrompt), Math.addExact(cachedPrompt, other.cachedPrompt),
                Math.addExact(completion, other.completion), events + other.events, spendMicros.add(other.spendMicros));
    }

    public long totalTokens() {
        return uncachedPrompt + cachedPrompt + completion;
    }

    public String encode() {
        return uncachedPrompt + " " + cachedPrompt + " " + completion + " " + events + " " + spendMicros.toPlainString();
    }

    public static UsageBucket decode(String value) {
        if (value == null) {
            return EMPTY;
        }
        String[] parts = value.split(" ");
        return new UsageBucket(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]), Long.parseLong(parts[3]),
                new BigDecimal(parts[4]));
    }
}
