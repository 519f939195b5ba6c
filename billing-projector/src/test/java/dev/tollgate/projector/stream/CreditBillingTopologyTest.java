package dev.tollgate.projector.stream;

import dev.tollgate.billing.credit.CreditApplied;
import dev.tollgate.projector.invoice.BillingRecord;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.quota.QuotaThresholdCrossed;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static dev.tollgate.projector.support.UsageEvents.completed;
import static dev.tollgate.projector.support.UsageEvents.json;
import static dev.tollgate.projector.support.UsageEvents.priceList;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prepaid credit through the whole topology (ADR 0027, 0028): the billing step burns each event of a tenant whose mode
 * burns credit, its billing record says what each grant paid of it and what was left unfunded, and the quota loop
 * publishes the balance and its alerts.
 */
class CreditBillingTopologyTest {
    private static final Instant T0 = Instant.parse("2026-11-03T10:00:00Z");
    /** 1 micro-unit per input token, 0.5 per cached input token, 2 per output token. */
    private static final PriceListPublished PRICES = priceList("pl", "pro", Instant.parse("2026-10-01T00:00:00Z"), "m", 1_000_000, 500_000,
            2_000_000);

    @TempDir
    Path stateDir;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> tenants;
    private TestInputTopic<String, byte[]> usage;
    private TestOutputTopic<String, byte[]> billed;
    private TestOutputTopic<String, QuotaState> quota;
    private long version;

    @BeforeEach
    void build() {
        var props = new Properties();
        props.put("application.id", "credit-test");
        props.put("bootstrap.servers", "unused:9092");
        props.put("state.dir", stateDir.toString());
        driver = new TopologyTestDriver(ProjectorTopology.build(ProjectorSettings.defaults()), props, T0);
        tenants = driver.createInputTopic(Topics.TENANTS_STATE.name(), new StringSerializer(), new ByteArraySerializer());
        driver.createInputTopic(Topics.PRICELISTS_STATE.name(), new StringSerializer(), new ByteArraySerializer())
                .pipeInput(PRICES.priceListId(), json(PRICES));
        usage = driver.createInputTopic(Topics.USAGE.name(), new StringSerializer(), new ByteArraySerializer());
        billed = driver.createOutputTopic(Topics.USAGE_BILLED.name(), new StringDeserializer(), new ByteArrayDeserializer());
        quota = driver.createOutputTopic(Topics.QUOTA_STATE.name(), new StringDeserializer(),
                (topic, bytes) -> EventCodec.decodeState(bytes, QuotaState.class));
    }

    @AfterEach
    void close() {
        driver.close();
    }

    private void tenant(BillingMode mode, Instant from, CreditGrant... grants) {
        tenants.pipeInput("acme", EventCodec.encodeState(new TenantState("acme", "Acme", TenantState.Status.ACTIVE, "pro", "UTC", "USD",
                Limits.NONE, null, null, ++version, T0, null, true, List.of(new BillingModePeriod(mode, from)), List.of(grants))));
    }

    private static CreditGrant grant(String id, long micros, Instant grantedAt, Instant expiresAt) {
        return new CreditGrant(id, micros, CreditSource.PURCHASE, grantedAt, expiresAt, null, 50, List.of());
    }

    /** One completed request: {@code uncached + cached} prompt tokens and {@code completion} output tokens. */
    private void send(String id, Instant time, long uncached, long cached, long completion) {
        CloudEvent<?> event = completed(id, "acme", "k1", "m", time, uncached + cached, cached, completion, 0);
        usage.pipeInput("acme", EventCodec.encode(event), time);
    }

    private List<BillingRecord.Billed> billedRecords() {
        return billed.readValuesToList().stream().map(BillingRecord::decode).filter(BillingRecord.Billed.class::isInstance)
                .map(BillingRecord.Billed.class::cast).toList();
    }

    private Map<String, QuotaState> latest() {
        driver.advanceWallClockTime(ProjectorSettings.DEFAULT_EMIT_INTERVAL.plus(Duration.ofMillis(50)));
        var states = new HashMap<String, QuotaState>();
        quota.readKeyValuesToList().forEach(kv -> states.put(kv.key, kv.value));
        return states;
    }

    private static Map<String, BigDecimal> grants(BillingRecord.Billed record) {
        return record.credit().grants();
    }

    @Test
    void aPrepaidTenantsUsageBurnsItsGrantsInOrderEachRecordSaysWhatPaidItAndTheBalanceSaysWhatIsLeft() {
        tenant(BillingMode.PREPAID, T0.minusSeconds(60), grant("cg_later", 1_000, T0.minusSeconds(30), null),
                grant("cg_soon", 300, T0.minusSeconds(60), T0.plusSeconds(3600)));

        send("e1", T0, 100, 50, 100); // 325 micros: 300 of the grant expiring first, 25 of the other
        QuotaState credit = latest().get("acme/*/CREDIT");
        assertThat(credit.grantsUsedMicros()).containsExactlyInAnyOrderEntriesOf(Map.of("cg_soon", 300L, "cg_later", 25L));
        assertThat(credit.usedSpendMicros()).isEqualTo(325);
        assertThat(credit.unfundedMicros()).isZero();
        assertThat(credit.status()).isEqualTo(QuotaState.Status.OK);

        send("e2", T0.plusSeconds(1), 0, 0, 500); // 1,000 micros: the last 975 of the grants, 25 unfunded
        credit = latest().get("acme/*/CREDIT");
        assertThat(credit.grantsUsedMicros()).containsExactlyInAnyOrderEntriesOf(Map.of("cg_soon", 300L, "cg_later", 1_000L));
        assertThat(credit.unfundedMicros()).isEqualTo(25);
        assertThat(credit.usedSpendMicros()).isEqualTo(1_325);
        assertThat(credit.status()).isEqualTo(QuotaState.Status.EXHAUSTED);
        assertThat(credit.version()).isEqualTo(2);
        assertThat(credit.windowStart()).isEqualTo(QuotaState.CREDIT_WINDOW_START);

        List<BillingRecord.Billed> records = billedRecords();
        assertThat(records).extracting(BillingRecord.Billed::eventId).containsExactly("e1", "e2");
        assertThat(records).allSatisfy(r -> assertThat(r.credit().mode()).isEqualTo(BillingMode.PREPAID));
        assertThat(grants(records.get(0))).containsOnlyKeys("cg_soon", "cg_later");
        assertThat(grants(records.get(0)).get("cg_soon")).isEqualByComparingTo("300");
        assertThat(grants(records.get(0)).get("cg_later")).isEqualByComparingTo("25");
        assertThat(records.get(0).credit().unfunded()).isEqualByComparingTo("0");
        assertThat(grants(records.get(1))).containsOnlyKeys("cg_later");
        assertThat(grants(records.get(1)).get("cg_later")).isEqualByComparingTo("975");
        assertThat(records.get(1).credit().unfunded()).isEqualByComparingTo("25");
        assertThat(records).allSatisfy(r -> assertThat(r.credit().coveredMicros()).isEqualByComparingTo(r.costMicros()));
    }

    @Test
    void aTopUpPaysTheUnfundedUsageFirstWhichStaysOnTheRecordOfTheEventThatOwedIt() {
        var first = grant("cg_1", 100, T0.minusSeconds(60), null);
        tenant(BillingMode.PREPAID, T0.minusSeconds(60), first);
        send("e1", T0, 130, 0, 0); // 100 from cg_1, 30 unfunded
        tenant(BillingMode.PREPAID, T0.minusSeconds(60), first, grant("cg_2", 1_000, T0.plusSeconds(5), null));
        send("e2", T0.plusSeconds(10), 20, 0, 0); // cg_2 pays the 30 owed, then e2's 20

        List<BillingRecord.Billed> records = billedRecords();
        assertThat(records.get(1).credit().grants()).containsOnlyKeys("cg_2");
        assertThat(records.get(1).credit().grants().get("cg_2")).isEqualByComparingTo("20");
        assertThat(records.get(0).credit().unfunded()).isEqualByComparingTo("30");
        assertThat(latest().get("acme/*/CREDIT").grantsUsedMicros()).containsEntry("cg_2", 50L);
    }

    @Test
    void aHybridTenantsOverageIsLeftForTheInvoice() {
        tenant(BillingMode.HYBRID, T0.minusSeconds(60), grant("cg_1", 100, T0.minusSeconds(60), null));
        send("e1", T0, 130, 0, 0);
        CreditApplied credit = billedRecords().getFirst().credit();
        assertThat(credit.mode()).isEqualTo(BillingMode.HYBRID);
        assertThat(credit.grants().get("cg_1")).isEqualByComparingTo("100");
        assertThat(credit.unfunded()).isEqualByComparingTo("0");
        assertThat(latest().get("acme/*/CREDIT").status()).isEqualTo(QuotaState.Status.OK);
    }

    @Test
    void usageBeforeThePrepaidModeTookEffectBurnsNothing() {
        tenant(BillingMode.PREPAID, T0.plusSeconds(10), grant("cg_1", 1_000, T0.minusSeconds(30), null));

        send("e1", T0, 100, 0, 0);
        assertThat(latest()).doesNotContainKey("acme/*/CREDIT");
        send("e2", T0.plusSeconds(10), 100, 0, 0);
        assertThat(latest().get("acme/*/CREDIT").grantsUsedMicros()).containsExactly(Map.entry("cg_1", 100L));
        assertThat(billedRecords()).extracting(BillingRecord.Billed::credit).first().isNull();
    }

    @Test
    void aPrepaidBalanceAlertsAt20And5PercentAndNothingLeftOnceEachAndATopUpArmsThemAgain() {
        var alerts = driver.createOutputTopic(Topics.QUOTA_ALERTS.name(), new StringDeserializer(), (topic, bytes) -> EventCodec.decode(bytes));
        var first = grant("cg_1", 1_000, T0.minusSeconds(60), null);
        tenant(BillingMode.PREPAID, T0.minusSeconds(60), first);

        send("e1", T0, 700, 0, 0);                   // 700 of 1,000: no alert
        send("e2", T0.plusSeconds(1), 100, 0, 0);    // 800: 20 % left
        send("e3", T0.plusSeconds(2), 160, 0, 0);    // 960: 5 % left
        send("e4", T0.plusSeconds(3), 10, 0, 0);     // 970: nothing new
        send("e5", T0.plusSeconds(4), 100, 0, 0);    // 1,070: nothing left (70 unfunded)
        tenant(BillingMode.PREPAID, T0.minusSeconds(60), first, grant("cg_2", 1_000, T0.plusSeconds(5), null));
        send("e6", T0.plusSeconds(6), 900, 0, 0);    // the top-up pays the 70 unfunded and 900: 30 of 2,000 left

        var received = alerts.readValuesToList().stream().map(e -> (QuotaThresholdCrossed) e.data())
                .filter(a -> a.budget().equals("credit")).toList();
        assertThat(received).extracting(a -> a.thresholdPercent() + "% of " + a.limit() + " used " + a.used() + " " + a.mode())
                .containsExactly("80% of 1000 used 800 HARD", "95% of 1000 used 960 HARD", "100% of 1000 used 1000 HARD",
                        "80% of 2000 used 1970 HARD", "95% of 2000 used 1970 HARD");
        assertThat(received).allSatisfy(a -> assertThat(a.window()).isEqualTo(QuotaState.Window.CREDIT));
    }
}
