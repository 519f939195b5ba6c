package dev.tollgate.billing;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class UsageBillingTest {
    private static final Instant T = Instant.parse("2026-11-03T10:00:00Z");

    @Test
    void streamedDeltasAndTheTerminalRemainderBillEveryTokenOnce() {
        var delta1 = CloudEvent.of(EventType.USAGE_TOKENS_STREAMED, "/g", T, "r", null, new TokensStreamed("r", "acme", "k", "m", 1, 64));
        var delta2 = CloudEvent.of(EventType.USAGE_TOKENS_STREAMED, "/g", T, "r", null, new TokensStreamed("r", "acme", "k", "m", 2, 64));
        var done = CloudEvent.of(EventType.USAGE_REQUEST_COMPLETED, "/g", T, "r", null, new RequestFinished("r", "acme", "k", "m",
                Endpoint.CHAT_COMPLETIONS, "p/e", new TokenUsage(400, 150, 256), 128, 900, 80L, null, null, null));

        long completion = 0;
        long uncached = 0;
        long cached = 0;
        for (var event : List.of(delta1, delta2, done)) {
            BillableUsage usage = UsageBilling.of(event).orElseThrow();
            completion += usage.completion();
            uncached += usage.uncachedPrompt();
            cached += usage.cachedPrompt();
        }

        assertThat(completion).isEqualTo(150);
        assertThat(uncached).isEqualTo(144);
        assertThat(cached).isEqualTo(256);
    }

    @Test
    void acceptedAndRejectedBillNothing() {
        var accepted = CloudEvent.of(EventType.USAGE_REQUEST_ACCEPTED, "/g", T, "r", null,
                new RequestAccepted("r", "acme", "k", "m", Endpoint.CHAT_COMPLETIONS, true, "p/e", 400, 1000));

        assertThat(UsageBilling.of(accepted)).isEmpty();
    }

    @Test
    void budgetAmountsRoundUpAndTheUpperBoundPricesThePromptAtTheDearerInputPrice() {
        var rates = new PriceSchedule.ModelRates(1_000_000, 500_000, 2_000_000);
        assertThat(UsageBilling.budgetMicros(UsageCounts.tokens(100, 100, 100), rates)).isEqualTo(350);
        assertThat(UsageBilling.budgetMicros(UsageCounts.tokens(1, 0, 0), new PriceSchedule.ModelRates(300_000, 0, 0))).isEqualTo(1);
        assertThat(UsageBilling.upperBoundMicros(1, 0, new PriceSchedule.ModelRates(300_000, 0, 0))).isEqualTo(1);
        assertThat(UsageBilling.upperBoundMicros(1_000, 10, rates)).isEqualTo(1_020);
        // A list whose cached input is dearer than input: the bound must not assume the cheaper price.
        assertThat(UsageBilling.upperBoundMicros(1_000, 0, new PriceSchedule.ModelRates(1_000_000, 3_000_000, 0))).isEqualTo(3_000);
        assertThat(UsageBilling.budgetMicros(UsageCounts.tokens(0, 1_000, 0), new PriceSchedule.ModelRates(1_000_000, 3_000_000, 0))).isEqualTo(3_000);
    }
}
