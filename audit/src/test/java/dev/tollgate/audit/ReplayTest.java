package dev.tollgate.audit;

import dev.tollgate.billing.InvoiceLine;
import dev.tollgate.billing.credit.InvoiceCredits;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokensStreamed;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The replay's own decisions, with no cluster: periods by stream time, late events, duplicates, prices over time. */
class ReplayTest {
    private static final Instant AUG = Instant.parse("2026-08-01T00:00:00Z");

    private static LedgerHistory ledger() {
        var ledger = new LedgerHistory();
        ledger.apply(event("t", EventType.LEDGER_TENANT_CREATED, AUG, new TenantCreated("acme", "Acme", "UTC", "USD")));
        ledger.apply(event("p", EventType.LEDGER_PLAN_ASSIGNED, AUG, new PlanAssigned("acme", "pro", AUG)));
        ledger.apply(event("l1", EventType.LEDGER_PRICELIST_PUBLISHED, AUG, new PriceListPublished("pl-1", "pro", "USD", AUG, false,
                List.of(new ModelPrice("m", 1_000_000, 500_000, 2_000_000)))));
        ledger.apply(event("l2", EventType.LEDGER_PRICELIST_PUBLISHED, AUG, new PriceListPublished("pl-2", "pro", "USD",
                Instant.parse("2026-09-15T00:00:00Z"), false, List.of(new ModelPrice("m", 1_000_000, 500_000, 4_000_000)))));
        return ledger;
    }

    @SuppressWarnings("unchecked")
    private static CloudEvent<EventData> event(String id, EventType type, Instant time, EventData data) {
        return (CloudEvent<EventData>) (CloudEvent<?>) CloudEvent.withId(id, type, "/test", time, null, null, data);
    }

    private static SourceRecord streamed(String id, String time, long tokens, long offset) {
        var event = CloudEvent.withId(id, EventType.USAGE_TOKENS_STREAMED, "/gw", Instant.parse(time), null, null,
                new TokensStreamed("r", "acme", "k", "m", 1, tokens));
        return new SourceRecord("usage.v1", 0, offset, "acme", EventCodec.encode(event));
    }

    @Test
    void lateEventsLandOnTheNextPeriodAsAdjustmentsAndPricesFollowTheEventTime() {
        var september = new Replay(YearMonth.of(2026, 9), null, Duration.ofHours(1), ledger());
        var october = new Replay(YearMonth.of(2026, 10), null, Duration.ofHours(1), ledger());
        List<SourceRecord> log = List.of(streamed("a", "2026-09-10T00:00:00Z", 100, 0), streamed("b", "2026-09-20T00:00:00Z", 100, 1),
                streamed("c", "2026-10-01T02:00:00Z", 10, 2), streamed("late", "2026-09-25T00:00:00Z", 7, 3),
                streamed("a", "2026-09-10T00:00:00Z", 100, 4));
        log.forEach(september::usage);
        log.forEach(october::usage);

        List<InvoiceLine> sep = september.tenants().get("acme").calculator().lines();
        assertThat(sep).extracting(InvoiceLine::priceListId, InvoiceLine::quantity).containsExactly(
                Tuple.tuple("pl-1", 100L), Tuple.tuple("pl-2", 100L));
        List<InvoiceLine> oct = october.tenants().get("acme").calculator().lines();
        assertThat(oct).extracting(InvoiceLine::adjustsPeriod, InvoiceLine::quantity).containsExactly(
                Tuple.tuple(null, 10L), Tuple.tuple("2026-09", 7L));
        assertThat(september.duplicates()).isEqualTo(1);
        assertThat(september.problems()).isEmpty();
    }

    @Test
    void aReusedIdWithOtherContentAndMalformedRecordsAreReported() {
        var replay = new Replay(YearMonth.of(2026, 9), null, Duration.ofHours(1), ledger());
        replay.usage(streamed("a", "2026-09-10T00:00:00Z", 100, 0));
        replay.usage(streamed("a", "2026-09-10T00:00:00Z", 999, 1));
        replay.usage(new SourceRecord("usage.v1", 0, 2, "acme", "{not json".getBytes(StandardCharsets.UTF_8)));

        assertThat(replay.problems()).singleElement().asString().contains("event id a", "partition 0 offset 0", "offset 1");
        assertThat(replay.malformed()).isEqualTo(1);
        assertThat(replay.tenants().get("acme").calculator().totalMicros()).isEqualTo(200); // the first one, 100 x 2 micros
    }

    @Test
    void whatCreditPaysOnAnInvoiceDependsOnTheEarlierPeriodsUsage() {
        LedgerHistory ledger = ledger();
        ledger.apply(event("mode", EventType.LEDGER_BILLINGMODE_SET, AUG, new BillingModeSet("acme", BillingMode.PREPAID, AUG)));
        ledger.apply(event("grant", EventType.LEDGER_CREDIT_GRANTED, AUG, new CreditGranted("acme", "cg-1", 300, CreditSource.PURCHASE, null,
                AUG, null, 50, List.of(), "cs_1")));
        var september = new Replay(YearMonth.of(2026, 9), null, Duration.ofHours(1), ledger);
        var october = new Replay(YearMonth.of(2026, 10), null, Duration.ofHours(1), ledger);
        // September: 100 tokens at 2 micros (200 of the 300); October: 100 at 4 micros (the last 100, then 300 unfunded).
        List<SourceRecord> log = List.of(streamed("a", "2026-09-10T00:00:00Z", 100, 0), streamed("b", "2026-10-10T00:00:00Z", 100, 1));
        log.forEach(september::usage);
        log.forEach(october::usage);

        InvoiceCredits.Summary sep = september.tenants().get("acme").credits().summary(200);
        assertThat(sep.credits()).containsExactly(new InvoiceCredits.Credit("cg-1", 200));
        assertThat(sep.amountDueMicros()).isZero();
        InvoiceCredits.Summary oct = october.tenants().get("acme").credits().summary(400);
        assertThat(oct.credits()).containsExactly(new InvoiceCredits.Credit("cg-1", 100), new InvoiceCredits.Credit(null, 300));
        assertThat(oct.amountDueMicros()).isZero();
    }

    @Test
    void aTenantOnAPrepaidPlanBurnsCreditFromThePlansDefinitionUntilItsOwnModeAndAfterItIsCleared() {
        LedgerHistory ledger = ledger();
        Instant prepaidFrom = Instant.parse("2026-09-05T00:00:00Z");
        Instant ownFrom = Instant.parse("2026-09-12T00:00:00Z");
        Instant clearedFrom = Instant.parse("2026-09-18T00:00:00Z");
        ledger.apply(event("plan-1", EventType.LEDGER_PLAN_DEFINED, AUG, new PlanDefined("pro", "Pro", Limits.NONE)));
        ledger.apply(event("plan-2", EventType.LEDGER_PLAN_DEFINED, prepaidFrom, new PlanDefined("pro", "Pro", Limits.NONE, null,
                BillingMode.PREPAID)));
        ledger.apply(event("own", EventType.LEDGER_BILLINGMODE_SET, ownFrom, new BillingModeSet("acme", BillingMode.POSTPAID, ownFrom)));
        ledger.apply(event("clear", EventType.LEDGER_BILLINGMODE_CLEARED, ownFrom, new BillingModeCleared("acme", clearedFrom)));
        ledger.apply(event("grant", EventType.LEDGER_CREDIT_GRANTED, AUG, new CreditGranted("acme", "cg-1", 1_000, CreditSource.PROMOTION, null,
                AUG, null, 50, List.of(), null, List.of(Endpoint.CHAT_COMPLETIONS))));

        assertThat(ledger.modes("acme")).containsExactly(new BillingModePeriod(BillingMode.PREPAID, prepaidFrom),
                new BillingModePeriod(BillingMode.POSTPAID, ownFrom), new BillingModePeriod(BillingMode.PREPAID, clearedFrom));
        assertThat(ledger.tenantsWithModes()).containsExactly("acme");
        var september = new Replay(YearMonth.of(2026, 9), null, Duration.ofHours(1), ledger);
        // 100 tokens on each day (2 micros each before September 15, 4 from then on): before the plan was prepaid, while it was,
        // while the tenant's own postpaid held, after that was cleared.
        List.of(streamed("a", "2026-09-04T00:00:00Z", 100, 0), streamed("b", "2026-09-10T00:00:00Z", 100, 1),
                streamed("c", "2026-09-15T00:00:00Z", 100, 2), streamed("d", "2026-09-20T00:00:00Z", 100, 3)).forEach(september::usage);

        // b (200) and d (400) burn; a (200) and c (400) are invoiced. The grant pays at chat completions only; these deltas say no
        // endpoint (an older gateway's), which any grant pays for.
        assertThat(september.tenants().get("acme").calculator().totalMicros()).isEqualTo(1_200);
        InvoiceCredits.Summary sep = september.tenants().get("acme").credits().summary(1_200);
        assertThat(sep.credits()).containsExactly(new InvoiceCredits.Credit("cg-1", 600));
        assertThat(sep.amountDueMicros()).isEqualTo(600);
    }
}
