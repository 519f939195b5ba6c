package dev.tollgate.billing;

/**
 * The units a price list prices (ADR 0030), each at micro-units per million of it. Cache writes and reasoning tokens
 * are parts of the input and output tokens: priced apart only when the list sets their price, else they stay in
 * {@link #INPUT} and {@link #OUTPUT} (so lists and events from before ADR 0030 bill exactly as before). Audio seconds,
 * documents and requests bill only when the list prices them. The declaration order is the order of invoice lines.
 */
public enum PriceUnit {
    INPUT, CACHED_INPUT, CACHE_WRITE_INPUT, OUTPUT, REASONING, AUDIO_SECONDS, DOCUMENTS, REQUESTS;

    /** The price of this unit in {@code rates}, micro-units per million; null when the list does not price it apart. */
    public Long microsPerMillion(PriceSchedule.ModelRates rates) {
        return switch (this) {
            case INPUT -> rates.inputMicros();
            case CACHED_INPUT -> rates.cachedInputMicros();
            case CACHE_WRITE_INPUT -> rates.cacheWriteInputMicros();
            case OUTPUT -> rates.outputMicros();
            case REASONING -> rates.reasoningMicros();
            case AUDIO_SECONDS -> rates.audioSecondMicros();
            case DOCUMENTS -> rates.documentMicros();
            case REQUESTS -> rates.requestMicros();
        };
    }

    /** How many of this unit {@code counts} bill at {@code rates}: 0 for a unit the list does not price. */
    public long quantityOf(UsageCounts counts, PriceSchedule.ModelRates rates) {
        boolean priced = microsPerMillion(rates) != null;
        return switch (this) {
            case INPUT -> counts.uncachedPrompt() - (rates.cacheWriteInputMicros() != null ? counts.cacheWritePrompt() : 0);
            case CACHED_INPUT -> counts.cachedPrompt();
            case CACHE_WRITE_INPUT -> priced ? counts.cacheWritePrompt() : 0;
            case OUTPUT -> counts.completion() - (rates.reasoningMicros() != null ? counts.reasoning() : 0);
            case REASONING -> priced ? counts.reasoning() : 0;
            case AUDIO_SECONDS -> priced ? counts.audioSeconds() : 0;
            case DOCUMENTS -> priced ? counts.documents() : 0;
            case REQUESTS -> priced ? counts.requests() : 0;
        };
    }
}
