package dev.tollgate.projector.stream;

import dev.tollgate.billing.InvoiceCalculator;
import dev.tollgate.billing.InvoiceLine;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.projector.invoice.BillingRecord;
import dev.tollgate.projector.reprice.RepricedUsage;
import dev.tollgate.projector.usage.UsageBucket;
import dev.tollgate.projector.usage.UsageKeys;
import dev.tollgate.projector.usage.UsageStoreReads;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static dev.tollgate.projector.support.UsageEvents.completed;
import static dev.tollgate.projector.support.UsageEvents.json;
import static dev.tollgate.projector.support.UsageEvents.priceList;
import static dev.tollgate.projector.support.UsageEvents.streamed;
import static dev.tollgate.projector.support.UsageEvents.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/** The whole projector topology: billing decisions, late events, period closing, live usage windows. */
class BillingTopologyTest {
    private static final Duration GRACE = Duration.ofHours(1);
    private static final PriceListPublished NOVEMBER = priceList("pl-nov", "pro", Instant.parse("2026-10-01T00:00:00Z"), "m",
            1_000_000, 500_000, 2_000_000);
    private static final PriceListPublished MID_NOVEMBER = priceList("pl-mid", "pro", Instant.parse("2026-11-15T00:00:00Z"), "m",
            3_000_000, 1_000_000, 4_000_000);

    @TempDir
    Path stateDir;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> usage;
    private TestOutputTopic<String, byte[]> billed;
    private TestOutputTopic<String, byte[]> late;

    @BeforeEach
    void build() {
        var props = new Properties();
        props.put("application.id", "billing-test");
        props.put("bootstrap.servers", "unused:9092");
        props.put("state.dir", stateDir.toString());
        driver = new TopologyTestDriver(ProjectorTopology.build(ProjectorSettings.defaults().withGrace(GRACE)), props);
        var tenants = driver.createInputTopic(Topics.TENANTS_STATE.name(), new StringSerializer(), new ByteArraySerializer());
        tenants.pipeInput("acme", tenant("acme", "pro", "UTC"));
        tenants.pipeInput("tokyo", tenant("tokyo", "pro", "Asia/Tokyo"));
        var lists = driver.createInputTopic(Topics.PRICELISTS_STATE.name(), new StringSerializer(), new ByteArraySerializer());
        lists.pipeInput(NOVEMBER.priceListId(), json(NOVEMBER));
        lists.pipeInput(MID_NOVEMBER.priceListId(), json(MID_NOVEMBER));
        usage = driver.createInputTopic(Topics.USAGE.name(), new StringSerializer(), new ByteArraySerializer());
        billed = driver.createOutputTopic(Topics.USAGE_BILLED.name(), new StringDeserializer(), new ByteArrayDeserializer());
        late = driver.createOutputTopic(Topics.USAGE_LATE.name(), new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void close() {
        driver.close();
    }

    private void send(CloudEvent<?> event) {
        usage.pipeInput(event.tenantid(), EventCodec.encode(event), event.time());
    }

    private List<BillingRecord> billedRecords() {
        return billed.readValuesToList().stream().map(BillingRecord::decode).toList();
    }

    @Test
    void everyEventIsBilledOnceWithThePriceListInForceAtItsTimeAndAPriceChangeSplitsTheLine() {
        send(streamed("e1", "acme", "k1", "m", Instant.parse("2026-11-14T23:59:59Z"), 1_000_000));
        send(streamed("e1", "acme", "k1", "m", Instant.parse("2026-11-14T23:59:59Z"), 1_000_000)); // the producer's retry
        send(streamed("e2", "acme", "k1", "m", Instant.parse("2026-11-15T00:00:00Z"), 1_000_000));

        List<BillingRecord> records = billedRecords();
        assertThat(records).hasSize(2).allSatisfy(r -> assertThat(r).isInstanceOf(BillingRecord.Billed.class));
        assertThat(records).extracting(r -> ((BillingRecord.Billed) r).price().priceListId()).containsExactly("pl-nov", "pl-mid");

        var schedule = new PriceSchedule();
        records.forEach(r -> {
            var b = (BillingRecord.Billed) r;
            schedule.add(new PriceSchedule.PriceList(b.price().priceListId(), b.price().effectiveFrom(),
                    Map.of(b.model(), b.price().rates())));
        });
        var calculator = new InvoiceCalculator(schedule);
        records.forEach(r -> calculator.add(((BillingRecord.Billed) r).usage()));
        assertThat(calculator.lines()).extracting(InvoiceLine::priceListId, InvoiceLine::quantity, InvoiceLine::amountMicros)
                .containsExactly(tuple("pl-mid", 1_000_000L, 4_000_000L), tuple("pl-nov", 1_000_000L, 2_000_000L));
    }

    @Test
    void aPlanScheduledForLaterPricesOnlyTheUsageFromItsEffectiveTime() {
        Instant switchAt = Instant.parse("2026-11-20T00:00:00Z");
        var gold = priceList("pl-gold", "gold", Instant.parse("2026-10-01T00:00:00Z"), "m", 100_000_000, 50_000_000, 200_000_000);
        driver.createInputTopic(Topics.PRICELISTS_STATE.name(), new StringSerializer(), new ByteArraySerializer())
                .pipeInput(gold.priceListId(), json(gold));
        // Published before the switch: the current plan is still "pro", the history already holds "gold" from the 20th.
        driver.createInputTopic(Topics.TENANTS_STATE.name(), new StringSerializer(), new ByteArraySerializer()).pipeInput("acme",
                EventCodec.encodeState(new TenantState("acme", "acme", TenantState.Status.ACTIVE, "pro", "UTC", "USD", null, null, null, 2,
                        Instant.parse("2026-11-10T00:00:00Z"),
                        List.of(new PlanPeriod("pro", Instant.parse("2026-01-01T00:00:00Z")), new PlanPeriod("gold", switchAt)))));

        send(streamed("before", "acme", "k1", "m", switchAt.minusMillis(1), 1_000));
        send(streamed("after", "acme", "k1", "m", switchAt, 1_000));

        assertThat(billedRecords()).extracting(r -> ((BillingRecord.Billed) r).price().priceListId()).containsExactly("pl-mid", "pl-gold");
        var days = driver.<String, String>getKeyValueStore(ProjectorTopology.DAY_STORE);
        assertThat(UsageBucket.decode(days.get(UsageKeys.day("acme", LocalDate.parse("2026-11-19"), "k1", "m"))).spendMicros())
                .isEqualByComparingTo("4000"); // 1,000 x pro's 4.0 micros per output token
        assertThat(UsageBucket.decode(days.get(UsageKeys.day("acme", LocalDate.parse("2026-11-20"), "k1", "m"))).spendMicros())
                .isEqualByComparingTo("200000"); // 1,000 x gold's 200.0
    }

    @Test
    void aPeriodClosesAfterItsGraceAndALaterEventBecomesAnAdjustmentOnTheNextPeriodAndGoesToUsageLate() {
        send(streamed("oct-1", "acme", "k1", "m", Instant.parse("2026-10-31T23:00:00Z"), 10));
        send(streamed("nov-1", "acme", "k1", "m", Instant.parse("2026-11-01T00:30:00Z"), 20));
        send(streamed("oct-2", "acme", "k1", "m", Instant.parse("2026-10-31T23:59:00Z"), 30)); // within the grace
        send(streamed("nov-2", "acme", "k1", "m", Instant.parse("2026-11-01T01:00:00Z"), 40)); // closes October
        send(streamed("oct-3", "acme", "k1", "m", Instant.parse("2026-10-31T23:59:30Z"), 50)); // late

        List<BillingRecord> records = billedRecords();
        assertThat(records).extracting(BillingTopologyTest::describe).containsExactly(
                "billed oct-1 2026-10", "billed nov-1 2026-11", "billed oct-2 2026-10", "billed nov-2 2026-11",
                "closed acme 2026-10", "billed oct-3 2026-11 adjusts 2026-10");
        List<TestRecord<String, byte[]>> lateRecords = late.readRecordsToList();
        assertThat(lateRecords).hasSize(1);
        assertThat(EventCodec.decode(lateRecords.getFirst().value()).id()).isEqualTo("oct-3");
        assertThat(new String(lateRecords.getFirst().headers().lastHeader(BillingProcessor.LATE_PERIOD_HEADER).value(),
                StandardCharsets.UTF_8)).isEqualTo("2026-10");
        assertThat(new String(lateRecords.getFirst().headers().lastHeader(BillingProcessor.ADJUSTED_IN_HEADER).value(),
                StandardCharsets.UTF_8)).isEqualTo("2026-11");
    }

    @Test
    void periodsCloseInTheTenantsZoneOncePerTenantAndAfterItsLastOnTimeEvent() {
        // Tokyo's November ends at 2026-11-30T15:00Z; with the grace it closes at 16:00Z.
        send(streamed("t-1", "tokyo", "k9", "m", Instant.parse("2026-11-30T14:59:00Z"), 5));
        send(streamed("a-1", "acme", "k1", "m", Instant.parse("2026-11-30T15:30:00Z"), 5));
        send(streamed("a-2", "acme", "k1", "m", Instant.parse("2026-11-30T16:00:00Z"), 5));
        send(streamed("a-3", "acme", "k1", "m", Instant.parse("2026-11-30T17:00:00Z"), 5));

        assertThat(billedRecords()).extracting(BillingTopologyTest::describe).containsExactly(
                "billed t-1 2026-11", "billed a-1 2026-11", "billed a-2 2026-11", "closed tokyo 2026-11", "billed a-3 2026-11");
    }

    @Test
    void liveUsageIsCountedPerMinuteAndPerDayForEachTenantKeyAndModel() {
        send(streamed("e1", "acme", "k1", "m", Instant.parse("2026-11-03T10:00:05Z"), 64));
        send(completed("e2", "acme", "k1", "m", Instant.parse("2026-11-03T10:00:40Z"), 400, 100, 100, 64));
        send(streamed("e3", "acme", "k1", "m", Instant.parse("2026-11-03T10:01:00Z"), 7));
        send(streamed("e4", "acme", "k2", "m", Instant.parse("2026-11-03T10:01:00Z"), 9));

        var minutes = driver.<String, String>getWindowStore(ProjectorTopology.MINUTE_STORE);
        long tenOClock = Instant.parse("2026-11-03T10:00:00Z").toEpochMilli();
        UsageBucket first = UsageBucket.decode(minutes.fetch(UsageKeys.minute("acme", "k1", "m"), tenOClock));
        assertThat(first.completion()).isEqualTo(100);
        assertThat(first.uncachedPrompt()).isEqualTo(300);
        assertThat(first.cachedPrompt()).isEqualTo(100);
        assertThat(first.events()).isEqualTo(2);
        // 300 x 1.0 + 100 x 0.5 + 100 x 2.0 micros
        assertThat(first.spendMicros()).isEqualByComparingTo("550");
        assertThat(UsageBucket.decode(minutes.fetch(UsageKeys.minute("acme", "k1", "m"), tenOClock + 60_000)).completion()).isEqualTo(7);

        var days = driver.<String, String>getKeyValueStore(ProjectorTopology.DAY_STORE);
        UsageBucket day = UsageBucket.decode(days.get(UsageKeys.day("acme", LocalDate.parse("2026-11-03"), "k1", "m")));
        assertThat(day.totalTokens()).isEqualTo(507);
        assertThat(UsageBucket.decode(days.get(UsageKeys.day("acme", LocalDate.parse("2026-11-03"), "k2", "m"))).totalTokens())
                .isEqualTo(9);
    }

    @Test
    void spendThatABackfillChangedIsAddedToTheLiveUsageOncePerEventAndList() {
        send(streamed("r1", "tokyo", "k1", "m", Instant.parse("2026-11-03T20:00:00Z"), 1_000)); // 2026-11-04 in Tokyo
        var repriced = driver.createInputTopic(Topics.USAGE_REPRICED.name(), new StringSerializer(), new ByteArraySerializer());
        var delta = new RepricedUsage("r1", "tokyo", "k1", "m", Instant.parse("2026-11-03T20:00:00Z"), "pl-backfill", new BigDecimal("1500.5"));
        repriced.pipeInput("tokyo", delta.encode());
        repriced.pipeInput("tokyo", delta.encode()); // the re-pricer's retry

        var days = driver.<String, String>getKeyValueStore(ProjectorTopology.DAY_STORE);
        UsageBucket day = UsageBucket.decode(days.get(UsageKeys.day("tokyo", LocalDate.parse("2026-11-04"), "k1", "m")));
        // 1,000 output tokens at 2.0 per million-micros: 2,000 micros, plus the delta once.
        assertThat(day.spendMicros()).isEqualByComparingTo("3500.5");
        assertThat(day.completion()).as("re-pricing changes money, not tokens").isEqualTo(1_000);
        assertThat(day.events()).isEqualTo(1);

        // Priced again with another list (a second backfill): that delta counts too.
        repriced.pipeInput("tokyo", new RepricedUsage("r1", "tokyo", "k1", "m", Instant.parse("2026-11-03T20:00:00Z"), "pl-second",
                new BigDecimal("-500")).encode());
        assertThat(UsageBucket.decode(days.get(UsageKeys.day("tokyo", LocalDate.parse("2026-11-04"), "k1", "m"))).spendMicros())
                .isEqualByComparingTo("3000.5");
    }

    @Test
    void aDayRangeIncludesItsFirstAndLastDayWhateverTheKeyAndModelNames() {
        send(streamed("d0", "acme", "k1", "m", Instant.parse("2026-10-31T23:59:59Z"), 1));
        send(streamed("d1", "acme", "k1", "m", Instant.parse("2026-11-01T00:00:00Z"), 10));
        send(streamed("d2", "acme", "Zk", "M-2", Instant.parse("2026-11-01T12:00:00Z"), 20));
        send(streamed("d3", "acme", "0k", "0m", Instant.parse("2026-11-01T23:59:59Z"), 30));
        send(streamed("d4", "acme", "k1", "m", Instant.parse("2026-11-30T23:59:59Z"), 40));
        send(streamed("d5", "acme", "k1", "m", Instant.parse("2026-12-01T00:00:00Z"), 100));
        send(streamed("d6", "acmex", "k1", "m", Instant.parse("2026-11-01T10:00:00Z"), 1000));
        var days = driver.<String, String>getKeyValueStore(ProjectorTopology.DAY_STORE);

        var november = UsageStoreReads.days(days, "acme", LocalDate.parse("2026-11-01"), LocalDate.parse("2026-11-30"), false);
        assertThat(november).containsOnlyKeys("2026-11-01|k1|m", "2026-11-01|Zk|M-2", "2026-11-01|0k|0m", "2026-11-30|k1|m");
        assertThat(november.values().stream().mapToLong(UsageBucket::completion).sum()).isEqualTo(100);

        var firstDayOnly = UsageStoreReads.days(days, "acme", LocalDate.parse("2026-11-01"), LocalDate.parse("2026-11-01"), true);
        assertThat(firstDayOnly).containsOnlyKeys("2026-11|k1|m", "2026-11|Zk|M-2", "2026-11|0k|0m");
        assertThat(UsageStoreReads.days(days, "acme", LocalDate.parse("2026-12-01"), LocalDate.parse("2026-12-01"), true))
                .containsOnlyKeys("2026-12|k1|m");
    }

    @Test
    void aMinuteRangeIncludesItsFirstMinuteAndExcludesItsEnd() {
        send(streamed("m1", "acme", "k1", "m", Instant.parse("2026-11-01T00:00:00Z"), 10));
        send(streamed("m2", "acme", "k1", "m", Instant.parse("2026-11-01T00:01:59Z"), 20));
        send(streamed("m3", "acme", "k1", "m", Instant.parse("2026-11-01T00:02:00Z"), 40));
        var minutes = driver.<String, String>getWindowStore(ProjectorTopology.MINUTE_STORE);

        var range = UsageStoreReads.minutes(minutes, "acme", Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-11-01T00:02:00Z"));
        assertThat(range).containsOnlyKeys("2026-11-01T00:00:00Z|k1|m", "2026-11-01T00:01:00Z|k1|m");
    }

    @Test
    void quotaStatesCarryEachGatewaysWatermark() {
        var quota = driver.createOutputTopic(Topics.QUOTA_STATE.name(), new StringDeserializer(),
                (topic, bytes) -> EventCodec.decodeState(bytes, QuotaState.class));
        send(streamed("e1", "acme", "k1", "m", Instant.parse("2026-11-03T10:00:05Z"), 64));
        send(streamed("e2", "acme", "k1", "m", Instant.parse("2026-11-03T10:00:01Z"), 1)); // older: the watermark stays
        driver.advanceWallClockTime(Duration.ofSeconds(1));

        var day = quota.readKeyValuesToMap().get("acme/*/DAY");
        assertThat(day.usedTokens()).isEqualTo(65);
        assertThat(day.sources()).containsEntry("/gateway/test", Instant.parse("2026-11-03T10:00:05Z"));
    }

    static String describe(BillingRecord record) {
        return switch (record) {
            case BillingRecord.Billed b -> "billed " + b.eventId() + " " + b.period() + (b.adjustsPeriod() == null ? "" : " adjusts " + b.adjustsPeriod());
            case BillingRecord.PeriodClosed c -> "closed " + c.tenantId() + " " + c.period();
        };
    }
}
