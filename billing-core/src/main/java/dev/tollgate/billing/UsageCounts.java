package dev.tollgate.billing;

/**
 * What one usage event bills, in every unit a price list can price (ADR 0030). The parts are disjoint except where
 * said: {@code cacheWritePrompt} is a part of {@code uncachedPrompt} and {@code reasoning} a part of {@code completion},
 * split off only when the price list prices them apart ({@link PriceUnit#quantityOf}).
 *
 * @param uncachedPrompt   prompt tokens not read from the cache (at the input price)
 * @param cachedPrompt     prompt tokens read from the cache (at the cached-input price)
 * @param cacheWritePrompt the part of {@code uncachedPrompt} written to the cache
 * @param completion       completion tokens (at the output price)
 * @param reasoning        the part of {@code completion} spent reasoning
 * @param audioSeconds     seconds of audio
 * @param documents        documents ranked or scored
 * @param requests         requests served (0 or 1 per event: the terminal event of a request the model served)
 */
public record UsageCounts(long uncachedPrompt, long cachedPrompt, long cacheWritePrompt, long completion, long reasoning,
                          long audioSeconds, long documents, long requests) {
    /** Nothing. */
    public static final UsageCounts NONE = new UsageCounts(0, 0, 0, 0, 0, 0, 0, 0);

    public UsageCounts {
        if (uncachedPrompt < 0 || cachedPrompt < 0 || cacheWritePrompt < 0 || completion < 0 || reasoning < 0 || audioSeconds < 0
                || documents < 0 || requests < 0) {
            throw new IllegalArgumentException("usage counts are never negative");
        }
        if (cacheWritePrompt > uncachedPrompt) {
            throw new IllegalArgumentException("cache writes (" + cacheWritePrompt + ") exceed the uncached prompt (" + uncachedPrompt + ")");
        }
        if (reasoning > completion) {
            throw new IllegalArgumentException("reasoning tokens (" + reasoning + ") exceed the completion (" + completion + ")");
        }
    }

    /** The three token counts of every event before ADR 0030. */
    public static UsageCounts tokens(long uncachedPrompt, long cachedPrompt, long completion) {
        return new UsageCounts(uncachedPrompt, cachedPrompt, 0, completion, 0, 0, 0, 0);
    }

    /** All tokens, whatever their price: what token budgets and rate limits count. */
    public long totalTokens() {
        return Math.addExact(Math.addExact(uncachedPrompt, cachedPrompt), completion);
    }

    /** Both together (a request's streamed part and its terminal part). */
    public UsageCounts plus(UsageCounts other) {
        return new UsageCounts(Math.addExact(uncachedPrompt, other.uncachedPrompt), Math.addExact(cachedPrompt, other.cachedPrompt),
                Math.addExact(cacheWritePrompt, other.cacheWritePrompt), Math.addExact(completion, other.completion),
                Math.addExact(reasoning, other.reasoning), Math.addExact(audioSeconds, other.audioSeconds),
                Math.addExact(documents, other.documents), Math.addExact(requests, other.requests));
    }
}
