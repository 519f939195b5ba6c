package dev.tollgate.billing;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokensStreamed;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Optional;

/**
 * What each usage event bills (ADR 0002): a {@code tokens.streamed} event bills its completion
 * delta; a terminal event ({@code completed}, {@code failed}, {@code cancelled}) bills the prompt
 * (uncached and cached) and the completion tokens no delta reported yet; {@code accepted} and
 * {@code rejected} bill nothing. So every token is billed by exactly one event, whether or not the
 * terminal event ever arrives.
 */
public final class UsageBilling {
    private UsageBilling() {}

    public static Optional<BillableUsage> of(CloudEvent<? extends EventData> event) {
        return switch (event.data()) {
            case TokensStreamed streamed -> Optional.of(new BillableUsage(event.id(), streamed.tenantId(), streamed.keyId(),
                    streamed.model(), event.time(), 0, 0, streamed.completionTokens(), streamed.endpoint()));
            case RequestFinished finished -> Optional.of(new BillableUsage(event.id(), finished.tenantId(), finished.keyId(),
                    finished.model(), event.time(), finished.usage().uncachedPromptTokens(), finished.usage().cachedPromptTokens(),
                    finished.completionTokensRemainder(), finished.endpoint()));
            default -> Optional.empty();
        };
    }

    /** The exact, unrounded amount of one event at {@code rates}, in micro-units (quotas and live usage; invoices round per line). */
    public static BigDecimal exactAmountMicros(BillableUsage usage, PriceSchedule.ModelRates rates) {
        return exactAmountMicros(usage.uncachedPrompt(), usage.cachedPrompt(), usage.completion(), rates);
    }

    /** The exact, unrounded amount of these token counts at {@code rates}, in micro-units. */
    public static BigDecimal exactAmountMicros(long uncachedPrompt, long cachedPrompt, long completion, PriceSchedule.ModelRates rates) {
        return Money.exactAmountMicros(uncachedPrompt, TokenKind.INPUT.microsPerMillion(rates))
                .add(Money.exactAmountMicros(cachedPrompt, TokenKind.CACHED_INPUT.microsPerMillion(rates)))
                .add(Money.exactAmountMicros(completion, TokenKind.OUTPUT.microsPerMillion(rates)));
    }

    /**
     * What a spend budget charges for these counts: the exact amount rounded up to a whole
     * micro-unit, so that budgets never under-count what invoices (rounded per line) will bill.
     */
    public static long budgetMicros(long uncachedPrompt, long cachedPrompt, long completion, PriceSchedule.ModelRates rates) {
        return exactAmountMicros(uncachedPrompt, cachedPrompt, completion, rates).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /**
     * The most a request can cost before its answer is known: every prompt token at the dearer of the
     * input and cached-input prices (which part the server has cached is unknown until it answers)
     * and every reserved completion token at the output price, rounded up.
     */
    public static long upperBoundMicros(long promptTokens, long completionTokens, PriceSchedule.ModelRates rates) {
        long promptPrice = Math.max(rates.inputMicros(), rates.cachedInputMicros());
        return Money.exactAmountMicros(promptTokens, promptPrice).add(Money.exactAmountMicros(completionTokens, rates.outputMicros()))
                .setScale(0, RoundingMode.CEILING).longValueExact();
    }
}
