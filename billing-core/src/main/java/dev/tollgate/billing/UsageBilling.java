package dev.tollgate.billing;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokensStreamed;

import java.math.BigDecimal;
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
                    streamed.model(), event.time(), 0, 0, streamed.completionTokens()));
            case RequestFinished finished -> Optional.of(new BillableUsage(event.id(), finished.tenantId(), finished.keyId(),
                    finished.model(), event.time(), finished.usage().uncachedPromptTokens(), finished.usage().cachedPromptTokens(),
                    finished.completionTokensRemainder()));
            default -> Optional.empty();
        };
    }

    /** The exact, unrounded amount of one event at {@code rates}, in micro-units (quotas and live usage; invoices round per line). */
    public static BigDecimal exactAmountMicros(BillableUsage usage, PriceSchedule.ModelRates rates) {
        BigDecimal total = BigDecimal.ZERO;
        for (TokenKind kind : TokenKind.values()) {
            total = total.add(Money.exactAmountMicros(kind.tokensOf(usage), kind.microsPerMillion(rates)));
        }
        return total;
    }
}
