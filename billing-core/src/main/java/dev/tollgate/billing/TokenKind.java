package dev.tollgate.billing;

/** The three prices of a model. */
public enum TokenKind {
    INPUT, CACHED_INPUT, OUTPUT;

    /** The price of this kind in {@code rates}, micro-units per million tokens. */
    public long microsPerMillion(PriceSchedule.ModelRates rates) {
        return switch (this) {
            case INPUT -> rates.inputMicros();
            case CACHED_INPUT -> rates.cachedInputMicros();
            case OUTPUT -> rates.outputMicros();
        };
    }

    long tokensOf(BillableUsage usage) {
        return switch (this) {
            case INPUT -> usage.uncachedPrompt();
            case CACHED_INPUT -> usage.cachedPrompt();
            case OUTPUT -> usage.completion();
        };
    }
}
