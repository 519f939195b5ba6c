package dev.tollgate.billing;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Optional;

/**
 * What each usage event bills (ADR 0002, ADR 0030): a {@code tokens.streamed} event bills its completion
 * delta; a terminal event ({@code completed}, {@code failed}, {@code cancelled}) bills the prompt (uncached, cached,
 * written to the cache), the completion tokens no delta reported yet, the audio seconds and documents, and one request
 * when the model served it; {@code accepted} and {@code rejected} bill nothing. So every token is billed by exactly one
 * event, whether or not the terminal event ever arrives.
 */
public final class UsageBilling {
    private UsageBilling() {}

    public static Optional<BillableUsage> of(CloudEvent<? extends EventData> event) {
        return switch (event.data()) {
            case TokensStreamed streamed -> Optional.of(new BillableUsage(event.id(), streamed.tenantId(), streamed.keyId(),
                    streamed.model(), event.time(), streamed(streamed.completionTokens(), streamed.reasoning()), streamed.endpoint()));
            case RequestFinished finished -> Optional.of(new BillableUsage(event.id(), finished.tenantId(), finished.keyId(),
                    finished.model(), event.time(), terminal(event.eventType(), finished.usage(), finished.completionTokensStreamed(),
                    finished.reasoningStreamed()), finished.endpoint()));
            default -> Optional.empty();
        };
    }

    /** What a {@code tokens.streamed} event of {@code completionTokens}, {@code reasoningTokens} of them reasoning, bills. */
    public static UsageCounts streamed(long completionTokens, long reasoningTokens) {
        return new UsageCounts(0, 0, 0, completionTokens, reasoningTokens, 0, 0, 0);
    }

    /**
     * What the terminal event of type {@code outcome} bills for a request that used {@code usage} in all and whose
     * {@code tokens.streamed} events billed {@code completionStreamed} completion tokens already, {@code reasoningStreamed}
     * of them reasoning.
     * <ul>
     *   <li>The reasoning tokens the streamed events did not bill, at most the completion remainder: a stream whose
     *       reasoning deltas the gateway cannot tell from its answer's (the Responses API's summaries, say) bills the
     *       reasoning the server counts on its remainder, and any beyond that stayed at the output price (ADR 0030).</li>
     *   <li>A request pays its fee when the model served it: a completed request, or a failed or cancelled one that
     *       bills anything (a failure with nothing delivered bills nothing: ADR 0018).</li>
     * </ul>
     */
    public static UsageCounts terminal(EventType outcome, TokenUsage usage, long completionStreamed, long reasoningStreamed) {
        long remainder = usage.completionTokens() - completionStreamed;
        boolean anything = usage.promptTokens() > 0 || remainder > 0 || usage.audioSeconds() > 0 || usage.documents() > 0;
        long requests = outcome == EventType.USAGE_REQUEST_COMPLETED || anything ? 1 : 0;
        return new UsageCounts(usage.uncachedPromptTokens(), usage.cachedPromptTokens(), usage.cacheWritePromptTokens(), remainder,
                Math.min(Math.max(0, usage.reasoningTokens() - reasoningStreamed), remainder), usage.audioSeconds(), usage.documents(),
                requests);
    }

    /** The exact, unrounded amount of one event at {@code rates}, in micro-units (quotas and live usage; invoices round per line). */
    public static BigDecimal exactAmountMicros(BillableUsage usage, PriceSchedule.ModelRates rates) {
        return exactAmountMicros(usage.counts(), rates);
    }

    /** The exact, unrounded amount of these counts at {@code rates}, in micro-units: every unit's quantity at its price. */
    public static BigDecimal exactAmountMicros(UsageCounts counts, PriceSchedule.ModelRates rates) {
        BigDecimal amount = BigDecimal.ZERO;
        for (PriceUnit unit : PriceUnit.values()) {
            long quantity = unit.quantityOf(counts, rates);
            if (quantity != 0) {
                amount = amount.add(Money.exactAmountMicros(quantity, unit.microsPerMillion(rates)));
            }
        }
        return amount;
    }

    /**
     * What a spend budget charges for these counts: the exact amount rounded up to a whole
     * micro-unit, so that budgets never under-count what invoices (rounded per line) will bill.
     */
    public static long budgetMicros(UsageCounts counts, PriceSchedule.ModelRates rates) {
        return exactAmountMicros(counts, rates).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /**
     * The most a request can cost before its answer is known: every prompt token at the dearest of the
     * input, cached-input and cache-write prices (which part the server reads from or writes to its cache is unknown until
     * it answers), every reserved completion token at the dearer of the output and reasoning prices, and the request
     * fee, rounded up. Audio seconds and documents are not known before the answer: they count when it comes.
     */
    public static long upperBoundMicros(long promptTokens, long completionTokens, PriceSchedule.ModelRates rates) {
        long promptPrice = Math.max(Math.max(rates.inputMicros(), rates.cachedInputMicros()), orZero(rates.cacheWriteInputMicros()));
        long completionPrice = Math.max(rates.outputMicros(), orZero(rates.reasoningMicros()));
        return Money.exactAmountMicros(promptTokens, promptPrice).add(Money.exactAmountMicros(completionTokens, completionPrice))
                .add(Money.exactAmountMicros(1, orZero(rates.requestMicros())))
                .setScale(0, RoundingMode.CEILING).longValueExact();
    }

    private static long orZero(Long price) {
        return price == null ? 0 : price;
    }
}
