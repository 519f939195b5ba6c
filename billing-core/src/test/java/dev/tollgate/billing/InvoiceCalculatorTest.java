package dev.tollgate.billing;

import dev.tollgate.billing.PriceSchedule.ModelRates;
import dev.tollgate.billing.PriceSchedule.PriceList;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class InvoiceCalculatorTest {
    private static final PriceList EARLY = new PriceList("pl-1", Instant.parse("2026-11-01T00:00:00Z"),
            Map.of("m", new ModelRates(150_000, 75_000, 600_000)));
    private static final PriceList LATE = new PriceList("pl-2", Instant.parse("2026-11-15T00:00:00Z"),
            Map.of("m", new ModelRates(100_000, 50_000, 400_000)));

    private static BillableUsage usage(String id, String time, long uncached, long cached, long completion) {
        return new BillableUsage(id, "acme", "k", "m", Instant.parse(time), uncached, cached, completion);
    }

    @Test
    void linesSumTokensExactlyAndRoundOncePerLine() {
        var calculator = new InvoiceCalculator(new PriceSchedule().add(EARLY));
        for (int i = 0; i < 1000; i++) {
            calculator.add(usage("e" + i, "2026-11-03T10:00:00Z", 1, 0, 1));
        }

        List<InvoiceLine> lines = calculator.lines();

        assertThat(lines).extracting(InvoiceLine::kind).containsExactly(PriceUnit.INPUT, PriceUnit.OUTPUT);
        assertThat(lines.get(0).quantity()).isEqualTo(1000);
        assertThat(lines.get(0).amountMicros()).isEqualTo(150);   // 1000 x 0.15, not 1000 x round(0.15) = 0
        assertThat(lines.get(1).amountMicros()).isEqualTo(600);
        assertThat(calculator.totalMicros()).isEqualTo(750);
        assertThat(lines.get(0).eventCount()).isEqualTo(1000);
    }

    @Test
    void aPriceChangeMidPeriodSplitsTheModelsLines() {
        var calculator = new InvoiceCalculator(new PriceSchedule().add(EARLY).add(LATE));
        calculator.add(usage("a", "2026-11-14T23:59:59Z", 1_000_000, 0, 0));
        calculator.add(usage("b", "2026-11-15T00:00:00Z", 1_000_000, 0, 0));

        assertThat(calculator.lines()).extracting(InvoiceLine::priceListId, InvoiceLine::amountMicros)
                .containsExactly(Tuple.tuple("pl-1", 150_000L), Tuple.tuple("pl-2", 100_000L));
    }

    @Test
    void cachedPromptTokensArePricedAtTheCachedRate() {
        var calculator = new InvoiceCalculator(new PriceSchedule().add(EARLY));
        calculator.add(usage("a", "2026-11-03T10:00:00Z", 1_000_000, 2_000_000, 0));

        assertThat(calculator.lines()).extracting(InvoiceLine::kind, InvoiceLine::amountMicros).containsExactly(
                Tuple.tuple(PriceUnit.INPUT, 150_000L),
                Tuple.tuple(PriceUnit.CACHED_INPUT, 150_000L));
    }

    @Test
    void aRepeatedEventIdIsCountedOnceAndTheResultDoesNotDependOnArrivalOrder() {
        var events = new ArrayList<BillableUsage>();
        for (int i = 0; i < 200; i++) {
            events.add(usage("e" + i, "2026-11-0" + (1 + i % 9) + "T10:00:00Z", i, i / 3, 2 * i));
        }
        var inOrder = new InvoiceCalculator(new PriceSchedule().add(EARLY));
        events.forEach(inOrder::add);
        var shuffled = new ArrayList<>(events);
        shuffled.addAll(events.subList(0, 50)); // redelivered duplicates
        Collections.shuffle(shuffled, new Random(7));
        var replayed = new InvoiceCalculator(new PriceSchedule().add(EARLY));
        shuffled.forEach(replayed::add);

        assertThat(replayed.lines()).isEqualTo(inOrder.lines());
        assertThat(replayed.totalMicros()).isEqualTo(inOrder.totalMicros());
    }

    @Test
    void theDigestCoversExactlyTheLinesEvents() {
        var calculator = new InvoiceCalculator(new PriceSchedule().add(EARLY));
        calculator.add(usage("b", "2026-11-03T10:00:00Z", 5, 0, 0));
        calculator.add(usage("a", "2026-11-03T11:00:00Z", 5, 0, 0));

        InvoiceLine line = calculator.lines().getFirst();

        assertThat(line.eventDigest()).isEqualTo(InvoiceCalculator.digest(new TreeSet<>(List.of("a", "b"))));
        assertThat(line.eventDigest()).isNotEqualTo(InvoiceCalculator.digest(new TreeSet<>(List.of("a", "c"))));
        assertThat(line.firstEventTime()).isEqualTo(Instant.parse("2026-11-03T10:00:00Z"));
        assertThat(line.lastEventTime()).isEqualTo(Instant.parse("2026-11-03T11:00:00Z"));
    }

    @Test
    void usageNoPriceListPricesIsReportedNotBilledAtZero() {
        var calculator = new InvoiceCalculator(new PriceSchedule().add(EARLY));
        calculator.add(new BillableUsage("x", "acme", "k", "unknown-model", Instant.parse("2026-11-03T10:00:00Z"), 10, 0, 10));
        calculator.add(usage("y", "2026-10-31T23:59:59Z", 10, 0, 10)); // before any list

        assertThat(calculator.lines()).isEmpty();
        assertThat(calculator.unpriced()).extracting(BillableUsage::eventId).containsExactly("x", "y");
    }

    @Test
    void lateEventsBecomeSeparateAdjustmentLinesPricedAtTheirOwnTime() {
        var calculator = new InvoiceCalculator(new PriceSchedule().add(EARLY).add(LATE));
        calculator.add(usage("own", "2026-12-01T10:00:00Z", 1_000_000, 0, 0));
        calculator.add(usage("late", "2026-11-10T10:00:00Z", 1_000_000, 0, 0), "2026-11");
        calculator.add(usage("late", "2026-11-10T10:00:00Z", 1_000_000, 0, 0), "2026-11");

        List<InvoiceLine> lines = calculator.lines();
        assertThat(lines).extracting(InvoiceLine::adjustsPeriod, InvoiceLine::priceListId, InvoiceLine::amountMicros)
                .containsExactly(Tuple.tuple(null, "pl-2", 100_000L),
                        Tuple.tuple("2026-11", "pl-1", 150_000L));
        assertThat(calculator.lineEventIds()).containsExactly(List.of("own"), List.of("late"));
        assertThat(lines.get(1).eventDigest()).isEqualTo(InvoiceCalculator.digest(List.of("late")));
    }
}
