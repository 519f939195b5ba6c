package dev.tollgate.projector.quota;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.PriceBook;
import dev.tollgate.projector.support.UsageEvents;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.quota.QuotaThresholdCrossed;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class QuotaProcessorTest {
    private static final Instant T0 = Instant.parse("2026-11-03T10:00:00Z");
    private final Map<String, TenantState> tenants = new HashMap<>();
    private final Map<String, KeyState> keys = new HashMap<>();
    private final PriceBook prices = new PriceBook();
    private TopologyTestDriver driver;
    private TestInputTopic<String, BillableUsage> usage;
    private TestOutputTopic<String, QuotaState> quota;

    @BeforeEach
    void build() {
        tenants.put("acme", new TenantState("acme", "Acme", TenantState.Status.ACTIVE, "pro", "Europe/Berlin", "EUR",
                new Limits(null, null, 1_000L, 1_000L, Limits.SpendLimitMode.SOFT, null), null, null, 1, T0));
        keys.put("k1", new KeyState("k1", "acme", "k", KeyState.Status.ACTIVE, List.of(), List.of(), List.of(),
                new Limits(null, null, 300L, null, null, null), null, 1, T0));
        prices.add(UsageEvents.priceList("pl", "pro", Instant.parse("2026-11-01T00:00:00Z"), "m", 1_000_000, 500_000, 2_000_000));
        var topology = new Topology();
        topology.addSource("usage", new StringDeserializer(),
                (topic, bytes) -> readUsage(bytes), "usage");
        QuotaLookups lookups = new QuotaLookups() {
            @Override
            public TenantState tenant(String tenantId) {
                return tenants.get(tenantId);
            }

            @Override
            public KeyState key(String keyId) {
                return keys.get(keyId);
            }

            @Override
            public PriceBook priceBook() {
                return prices;
            }
        };
        topology.addProcessor("quota", () -> new QuotaProcessor("quota-usage", Duration.ofMillis(100), lookups), "usage");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("quota-usage"), Serdes.String(), Serdes.String()),
                "quota");
        Serializer<QuotaState> stateSerializer = (topic, state) -> EventCodec.encodeState(state);
        topology.addSink(QuotaProcessor.TO_STATE, "quota.state.v1", new StringSerializer(), stateSerializer, "quota");
        topology.addSink(QuotaProcessor.TO_ALERTS, "quota.alerts.v1", new StringSerializer(),
                (topic, event) -> EventCodec.encode((CloudEvent<?>) event), "quota");
        var props = new Properties();
        props.put("application.id", "quota-test");
        props.put("bootstrap.servers", "unused:9092");
        driver = new TopologyTestDriver(topology, props, T0);
        usage = driver.createInputTopic("usage", new StringSerializer(), (topic, value) -> writeUsage(value));
        quota = driver.createOutputTopic("quota.state.v1", new StringDeserializer(),
                (topic, bytes) -> EventCodec.decodeState(bytes, QuotaState.class));
    }

    @AfterEach
    void close() {
        driver.close();
    }

    private static byte[] writeUsage(BillableUsage value) {
        try {
            return EventCodec.mapper().writeValueAsBytes(value);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static BillableUsage readUsage(byte[] bytes) {
        try {
            return EventCodec.mapper().readValue(bytes, BillableUsage.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void send(String id, String keyId, Instant time, long uncached, long cached, long completion) {
        usage.pipeInput("acme", new BillableUsage(id, "acme", keyId, "m", time, uncached, cached, completion), time);
    }

    private Map<String, QuotaState> latest() {
        driver.advanceWallClockTime(Duration.ofMillis(150));
        var states = new HashMap<String, QuotaState>();
        quota.readKeyValuesToList().forEach(kv -> states.put(kv.key, kv.value));
        return states;
    }

    @Test
    void usageIsCountedPerTenantAndKeyPerDayAndPeriodWithSpendAtThePriceInForce() {
        send("e1", "k1", T0, 100, 50, 100);
        send("e2", "k1", T0.plusSeconds(60), 100, 0, 0);

        Map<String, QuotaState> states = latest();

        QuotaState day = states.get("acme/*/DAY");
        assertThat(day.usedTokens()).isEqualTo(350);
        assertThat(day.windowStart()).isEqualTo(Instant.parse("2026-11-02T23:00:00Z")); // midnight in Berlin
        QuotaState period = states.get("acme/*/BILLING_PERIOD");
        // 200 x 1.0 + 50 x 0.5 + 100 x 2.0 micros = 425 micros
        assertThat(period.usedSpendMicros()).isEqualTo(425);
        assertThat(period.windowStart()).isEqualTo(Instant.parse("2026-10-31T23:00:00Z"));
        assertThat(states.get("acme/k1/DAY").usedTokens()).isEqualTo(350);
        assertThat(states).as("one state per tenant/key and window").hasSize(4);
    }

    @Test
    void reachingALimitChangesTheStatusHardForTokensSoftForSoftSpend() {
        send("e1", "k1", T0, 200, 0, 150);
        assertThat(latest().get("acme/k1/DAY").status()).as("key limit 300 tokens/day").isEqualTo(QuotaState.Status.EXHAUSTED);

        send("e2", null, T0.plusSeconds(1), 0, 0, 400);
        Map<String, QuotaState> states = latest();
        assertThat(states.get("acme/*/DAY").usedTokens()).isEqualTo(750);
        assertThat(states.get("acme/*/DAY").status()).isEqualTo(QuotaState.Status.OK);
        // spend 200 + 300 + 800 = 1300 micros >= 1000, and the tenant's spend limit is SOFT
        assertThat(states.get("acme/*/BILLING_PERIOD").status()).isEqualTo(QuotaState.Status.SOFT_LIMIT);
    }

    @Test
    void aNewDayStartsFromZeroWhileThePeriodKeepsCounting() {
        send("e1", "k1", T0, 100, 0, 0);
        latest();
        send("e2", "k1", Instant.parse("2026-11-04T10:00:00Z"), 10, 0, 0);

        Map<String, QuotaState> states = latest();

        assertThat(states.get("acme/*/DAY").usedTokens()).isEqualTo(10);
        assertThat(states.get("acme/*/BILLING_PERIOD").usedTokens()).isEqualTo(110);
    }

    @Test
    void statesAreEmittedAtMostOncePerIntervalPerWindow() {
        for (int i = 0; i < 50; i++) {
            send("e" + i, "k1", T0.plusSeconds(i), 1, 0, 0);
        }
        driver.advanceWallClockTime(Duration.ofMillis(150));

        var emitted = quota.readKeyValuesToList();

        assertThat(emitted).hasSize(4);
        assertThat(emitted).allSatisfy(kv -> assertThat(kv.value.usedTokens()).isEqualTo(50));
    }

    @Test
    void crossing50And80And100PercentOfABudgetEmitsOneAlertEachWithAStableId() {
        var alerts = driver.createOutputTopic("quota.alerts.v1", new StringDeserializer(),
                (topic, bytes) -> EventCodec.decode(bytes));
        send("e1", "k1", T0, 160, 0, 0);                    // key 160/300 tokens: 50 %
        send("e2", "k1", T0.plusSeconds(1), 0, 0, 100);     // key 260: 80 %; tenant spend 160 + 200 = 360 of 1,000
        send("e3", "k1", T0.plusSeconds(2), 0, 0, 100);     // key 360: 100 %; tenant spend 560: 50 % (soft)

        var received = alerts.readValuesToList();
        assertThat(received).extracting(e -> {
            var data = (QuotaThresholdCrossed) e.data();
            return (data.keyId() == null ? "tenant" : "key") + " " + data.budget() + " " + data.thresholdPercent() + " " + data.mode();
        }).containsExactly("key tokens 50 HARD", "key tokens 80 HARD", "key tokens 100 HARD", "tenant spend 50 SOFT");
        assertThat(received).extracting(e -> e.type()).containsOnly("dev.tollgate.quota.threshold.crossed.v1");

        // Recounting the same crossing (e.g. after a restore) yields the very same id.
        var again = new QuotaProcessorTest();
        again.build();
        var alertsAgain = again.driver.createOutputTopic("quota.alerts.v1", new StringDeserializer(), (topic, bytes) -> EventCodec.decode(bytes));
        again.send("x1", "k1", T0, 160, 0, 0);
        assertThat(alertsAgain.readValuesToList().getFirst().id()).isEqualTo(received.getFirst().id());
        again.close();
    }
}
