package dev.tollgate.billing;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestError;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** The units of ADR 0030: priced apart only where the list prices them, every unit billed by exactly one event. */
class PriceUnitTest {
    private static final Instant T = Instant.parse("2026-12-31T23:59:59Z");
    private static final PriceSchedule.ModelRates TOKENS_ONLY = new PriceSchedule.ModelRates(3_000_000, 300_000, 15_000_000);
    private static final PriceSchedule.ModelRates EVERY_UNIT = new PriceSchedule.ModelRates(3_000_000, 300_000, 15_000_000,
            3_750_000L, 10_000_000L, 100_000_000L, 2_000_000_000L, 50_000_000L);

    @Test
    void withoutTheirPricesCacheWritesAndReasoningStayInputAndOutputAndNothingElseBills() {
        var counts = new UsageCounts(1_000, 500, 400, 300, 200, 7, 3, 1);

        assertThat(quantities(counts, TOKENS_ONLY)).containsExactly(
                tuple(PriceUnit.INPUT, 1_000L), tuple(PriceUnit.CACHED_INPUT, 500L), tuple(PriceUnit.OUTPUT, 300L));
        // exactly what the three token kinds billed before ADR 0030
        assertThat(UsageBilling.exactAmountMicros(counts, TOKENS_ONLY))
                .isEqualByComparingTo(new BigDecimal("3000").add(new BigDecimal("150")).add(new BigDecimal("4500")));
    }

    @Test
    void everyPricedUnitIsItsOwnQuantityAtItsOwnPrice() {
        var counts = new UsageCounts(1_000, 500, 400, 300, 200, 7, 3, 1);

        assertThat(quantities(counts, EVERY_UNIT)).containsExactly(
                tuple(PriceUnit.INPUT, 600L), tuple(PriceUnit.CACHED_INPUT, 500L), tuple(PriceUnit.CACHE_WRITE_INPUT, 400L),
                tuple(PriceUnit.OUTPUT, 100L), tuple(PriceUnit.REASONING, 200L), tuple(PriceUnit.AUDIO_SECONDS, 7L),
                tuple(PriceUnit.DOCUMENTS, 3L), tuple(PriceUnit.REQUESTS, 1L));
        // 600x3 + 500x0.3 + 400x3.75 + 100x15 + 200x10 + 7x100 + 3x2000 + 1x50 micro-units
        assertThat(UsageBilling.exactAmountMicros(counts, EVERY_UNIT)).isEqualByComparingTo("13700");
    }

    @Test
    void aPriceOfZeroIsAPriceNotAnAbsence() {
        var freeReasoning = new PriceSchedule.ModelRates(3_000_000, 300_000, 15_000_000, null, 0L, null, null, null);

        assertThat(quantities(new UsageCounts(0, 0, 0, 300, 200, 0, 0, 1), freeReasoning))
                .containsExactly(tuple(PriceUnit.OUTPUT, 100L), tuple(PriceUnit.REASONING, 200L));
    }

    @Test
    void aStreamedRequestBillsItsDeltasItsRemainderAndOneRequestOnce() {
        var delta = event(EventType.USAGE_TOKENS_STREAMED, new TokensStreamed("r", "acme", "k", "m", 1, 250));
        var done = event(EventType.USAGE_REQUEST_COMPLETED, finished(new TokenUsage(1_500, 300, 500, 400, 200, 0, 0), 250, null));

        UsageCounts streamed = UsageBilling.of(delta).orElseThrow().counts();
        UsageCounts terminal = UsageBilling.of(done).orElseThrow().counts();

        assertThat(streamed).isEqualTo(UsageCounts.tokens(0, 0, 250));
        // reasoning priced apart is at most the remainder: the 150 reasoning tokens the delta billed stay output
        assertThat(terminal).isEqualTo(new UsageCounts(1_000, 500, 400, 50, 50, 0, 0, 1));
        assertThat(streamed.plus(terminal).completion()).isEqualTo(300);
    }

    @Test
    void reasoningTheStreamedEventsReportedIsBilledByThemAndTheTerminalBillsOnlyTheRest() {
        var delta = event(EventType.USAGE_TOKENS_STREAMED, new TokensStreamed("r", "acme", "k", "m", 1, 250, Endpoint.CHAT_COMPLETIONS, 150L));
        var done = event(EventType.USAGE_REQUEST_COMPLETED, new RequestFinished("r", "acme", "k", "m", Endpoint.CHAT_COMPLETIONS, "p/e",
                new TokenUsage(1_500, 300, 500, 0, 160, 0, 0), 250, 900, 80L, null, null, null, 150L));

        UsageCounts streamed = UsageBilling.of(delta).orElseThrow().counts();
        UsageCounts terminal = UsageBilling.of(done).orElseThrow().counts();

        assertThat(streamed).isEqualTo(new UsageCounts(0, 0, 0, 250, 150, 0, 0, 0));
        assertThat(terminal).isEqualTo(new UsageCounts(1_000, 500, 0, 50, 10, 0, 0, 1));
        assertThat(streamed.plus(terminal).reasoning()).as("all the server counted, each token once").isEqualTo(160);
        assertThat(quantities(streamed.plus(terminal), EVERY_UNIT)).contains(tuple(PriceUnit.OUTPUT, 140L), tuple(PriceUnit.REASONING, 160L));
    }

        @Test
    void aWholeAnswerBillsAllItsReasoningApart() {
        var done = event(EventType.USAGE_REQUEST_COMPLETED, finished(new TokenUsage(100, 300, 0, 0, 200, 0, 0), 0, null));

        assertThat(UsageBilling.of(done).orElseThrow().counts()).isEqualTo(new UsageCounts(100, 0, 0, 300, 200, 0, 0, 1));
    }

    @Test
    void theFeeIsPaidByRequestsTheModelServedOnly() {
        var refused = event(EventType.USAGE_REQUEST_FAILED, finished(TokenUsage.ZERO, 0,
                new RequestError(400, "invalid_request_error", "bad", "no")));
        var cut = event(EventType.USAGE_REQUEST_FAILED, finished(new TokenUsage(10, 4, 0), 0,
                new RequestError(502, "upstream_error", "cut", "cut")));
        var transcribed = event(EventType.USAGE_REQUEST_COMPLETED, finished(new TokenUsage(0, 0, 0, 0, 0, 7, 0), 0, null));

        assertThat(UsageBilling.of(refused).orElseThrow().counts()).isEqualTo(UsageCounts.NONE);
        assertThat(UsageBilling.of(cut).orElseThrow().counts().requests()).isEqualTo(1);
        assertThat(UsageBilling.of(transcribed).orElseThrow().counts()).isEqualTo(new UsageCounts(0, 0, 0, 0, 0, 7, 0, 1));
    }

    @Test
    void invoiceLinesCarryEveryPricedUnitAndOldListsMakeTheSameLinesAsBefore() {
        var list = new PriceSchedule().add(new PriceSchedule.PriceList("pl-all", T.minusSeconds(86_400), Map.of(
                "m", EVERY_UNIT, "old", TOKENS_ONLY)));
        var calculator = new InvoiceCalculator(list);
        calculator.add(new BillableUsage("e1", "acme", "k", "m", T, new UsageCounts(1_000, 500, 400, 300, 200, 7, 3, 1), null));
        calculator.add(new BillableUsage("e2", "acme", "k", "m", T, new UsageCounts(0, 0, 0, 0, 0, 61, 0, 1), null));
        calculator.add(new BillableUsage("e3", "acme", "k", "old", T, new UsageCounts(1_000, 500, 400, 300, 200, 7, 3, 1), null));

        assertThat(calculator.lines()).extracting(InvoiceLine::model, InvoiceLine::kind, InvoiceLine::quantity, InvoiceLine::amountMicros,
                InvoiceLine::eventCount).containsExactly(
                tuple("m", PriceUnit.INPUT, 600L, 1_800L, 1L),
                tuple("m", PriceUnit.CACHED_INPUT, 500L, 150L, 1L),
                tuple("m", PriceUnit.CACHE_WRITE_INPUT, 400L, 1_500L, 1L),
                tuple("m", PriceUnit.OUTPUT, 100L, 1_500L, 1L),
                tuple("m", PriceUnit.REASONING, 200L, 2_000L, 1L),
                tuple("m", PriceUnit.AUDIO_SECONDS, 68L, 6_800L, 2L),
                tuple("m", PriceUnit.DOCUMENTS, 3L, 6_000L, 1L),
                tuple("m", PriceUnit.REQUESTS, 2L, 100L, 2L),
                tuple("old", PriceUnit.INPUT, 1_000L, 3_000L, 1L),
                tuple("old", PriceUnit.CACHED_INPUT, 500L, 150L, 1L),
                tuple("old", PriceUnit.OUTPUT, 300L, 4_500L, 1L));
    }

    @Test
    void theReservationCoversTheDearestPriceEveryTokenCanHaveAndTheFee() {
        // 100 prompt tokens at 3.75, 50 completion tokens at 15, one request at 50
        assertThat(UsageBilling.upperBoundMicros(100, 50, EVERY_UNIT)).isEqualTo(375 + 750 + 50);
        assertThat(UsageBilling.upperBoundMicros(100, 50, TOKENS_ONLY)).isEqualTo(300 + 750);
    }

    private static List<Tuple> quantities(UsageCounts counts, PriceSchedule.ModelRates rates) {
        return Arrays.stream(PriceUnit.values()).filter(unit -> unit.quantityOf(counts, rates) != 0)
                .map(unit -> tuple(unit, unit.quantityOf(counts, rates))).toList();
    }

    private static CloudEvent<?> event(EventType type, EventData data) {
        return CloudEvent.of(type, "/g", T, "r", null, data);
    }

    private static RequestFinished finished(TokenUsage usage, long streamed, RequestError error) {
        return new RequestFinished("r", "acme", "k", "m", Endpoint.RESPONSES, "p/e", usage, streamed, 900, 80L, null, error, null);
    }
}
