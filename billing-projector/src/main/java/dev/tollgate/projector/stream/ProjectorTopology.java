package dev.tollgate.projector.stream;

import dev.tollgate.projector.invoice.BillingRecord;
import dev.tollgate.projector.quota.QuotaProcessor;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.state.StateTopicRecords;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import io.opentelemetry.api.OpenTelemetry;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The projector's topology, built by one pure function: usage.v1 -> parse (malformed to
 * deadletter.v1) -> deduplicate by event id -> billing decision ({@link BillingProcessor}: price,
 * invoice period, late events to usage.late.v1, live usage per minute and day, period-closed
 * markers -> usage.billed.v1) -> quota usage per tenant and key per day and billing period ->
 * quota.state.v1. The ledger's tenants, keys and price lists are global stores read from their
 * compacted topics. Every store is cached: repeated writes to a hot key (a tenant's clock, day and
 * quota buckets) reach RocksDB and the changelog once per commit instead of once per event.
 */
public final class ProjectorTopology {
    public static final String TENANTS_STORE = "tenants";
    public static final String KEYS_STORE = "keys";
    public static final String PRICELISTS_STORE = "pricelists";
    /** Per re-priced event, the price list its live usage was last counted with. */
    public static final String REPRICED_STORE = "repriced";
    /** Live usage per tenant|day|key|model (interactive queries). */
    public static final String DAY_STORE = "usage-day";
    /** Live usage per tenant|key|model and minute (interactive queries). */
    public static final String MINUTE_STORE = "usage-minute";
    static final String SEEN_STORE = "seen-event-ids";
    /** Usage per tenant, key and quota window, and each prepaid tenant's credit burn (interactive queries). */
    public static final String QUOTA_STORE = "quota-usage";
    static final String CLOCK_STORE = "billing-clock";
    static final String OPEN_PERIODS_STORE = "open-periods";

    private ProjectorTopology() {}

    /** The topology with the given settings; the same function serves the application and the tests. */
    public static Topology build(ProjectorSettings settings) {
        return build(settings, ProjectorMetrics.NONE);
    }

    /** As {@link #build(ProjectorSettings)}, reporting to {@code metrics}. */
    public static Topology build(ProjectorSettings settings, ProjectorMetrics metrics) {
        return build(settings, metrics, OpenTelemetry.noop());
    }

    /** As above, tracing the billing of each event with {@code openTelemetry}. */
    public static Topology build(ProjectorSettings settings, ProjectorMetrics metrics, OpenTelemetry openTelemetry) {
        var topology = new Topology();
        globalStore(topology, TENANTS_STORE, Topics.TENANTS_STATE.name(), metrics);
        globalStore(topology, KEYS_STORE, Topics.KEYS_STATE.name(), metrics);
        globalStore(topology, PRICELISTS_STORE, Topics.PRICELISTS_STATE.name(), metrics);

        topology.addSource("usage", new StringDeserializer(), new ByteArrayDeserializer(), Topics.USAGE.name());
        topology.addProcessor("parse", () -> new ParseOrDeadLetter("dedup", "dead-letters"), "usage");
        topology.addSink("dead-letters", Topics.DEAD_LETTER.name(), new StringSerializer(),
                (topic, value) -> (byte[]) value, "parse");
        topology.addProcessor("dedup", () -> new DeduplicateByEventId(SEEN_STORE, settings.dedupHorizon()), "parse");
        topology.addStateStore(DeduplicateByEventId.storeBuilder(SEEN_STORE, settings.dedupHorizon()), "dedup");

        topology.addProcessor("billing", () -> new BillingProcessor(settings, new StoreLookups(), metrics, openTelemetry), "dedup");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CLOCK_STORE), Serdes.String(), Serdes.Long())
                        .withCachingEnabled(),
                "billing");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(OPEN_PERIODS_STORE), Serdes.String(),
                Serdes.String()).withCachingEnabled(), "billing");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DAY_STORE), Serdes.String(), Serdes.String())
                        .withCachingEnabled(),
                "billing");
        topology.addStateStore(Stores.windowStoreBuilder(Stores.persistentWindowStore(MINUTE_STORE, settings.minuteRetention(),
                Duration.ofMinutes(1), false), Serdes.String(), Serdes.String()).withCachingEnabled(), "billing");
        Serializer<Object> billedSerializer = (topic, value) -> BillingRecord.encode((BillingRecord) value);
        topology.addSink(BillingProcessor.TO_BILLED, Topics.USAGE_BILLED.name(), new StringSerializer(), billedSerializer, "billing");
        Serializer<Object> eventSerializer = (topic, value) -> EventCodec.encode((CloudEvent<?>) value);
        topology.addSink(BillingProcessor.TO_LATE, Topics.USAGE_LATE.name(), new StringSerializer(), eventSerializer, "billing");

        // Spend a backfill changed, into the same day and minute stores (usage.repriced.v1 is partitioned as usage.v1).
        topology.addSource("repriced", new StringDeserializer(), new ByteArrayDeserializer(), Topics.USAGE_REPRICED.name());
        topology.addProcessor("repriced-usage", () -> new RepricedUsageProcessor(REPRICED_STORE, new StoreLookups()), "repriced");
        topology.addStateStore(RepricedUsageProcessor.storeBuilder(REPRICED_STORE), "repriced-usage");
        topology.connectProcessorAndStateStores("repriced-usage", DAY_STORE, MINUTE_STORE);

        topology.addProcessor(BillingProcessor.TO_QUOTA, () -> new QuotaProcessor(QUOTA_STORE, settings.emitInterval(), new StoreLookups(), metrics),
                "billing");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(QUOTA_STORE), Serdes.String(),
                Serdes.String()).withCachingEnabled(), BillingProcessor.TO_QUOTA, "billing");
        Serializer<QuotaState> quotaSerializer = (topic, state) -> EventCodec.encodeState(state);
        topology.addSink(QuotaProcessor.TO_STATE, Topics.QUOTA_STATE.name(), new StringSerializer(), quotaSerializer, BillingProcessor.TO_QUOTA);
        topology.addSink(QuotaProcessor.TO_ALERTS, Topics.QUOTA_ALERTS.name(), new StringSerializer(), eventSerializer, BillingProcessor.TO_QUOTA);
        return topology;
    }

    private static void globalStore(Topology topology, String store, String topic, ProjectorMetrics metrics) {
        // Topology#addGlobalStore restores through the processor too (KAFKA-7663, Kafka 3.8+), so the
        // checks below hold after a restart as well as while running.
        topology.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(store), Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(),
                store + "-source", new StringDeserializer(), new ByteArrayDeserializer(), topic, store + "-loader",
                () -> new StoreLoader(store, topic, metrics));
    }

    /**
     * Keeps the latest <em>good</em> value per key (a tombstone deletes). A record that fails
     * {@link StateTopicRecords#decode} is not loaded: the tenant, key or price list keeps its last good
     * state, so billing never prices with a broken record nor stops on one (ADR 0014). The state
     * checker dead-letters such records once for the fleet; here they are counted and logged.
     */
    private static final class StoreLoader implements Processor<String, byte[], Void, Void> {
        private static final Logger LOG = LoggerFactory.getLogger(StoreLoader.class);
        private final String storeName;
        private final String topic;
        private final ProjectorMetrics metrics;
        private ProcessorContext<Void, Void> context;
        private KeyValueStore<String, byte[]> store;

        StoreLoader(String storeName, String topic, ProjectorMetrics metrics) {
            this.storeName = storeName;
            this.topic = topic;
            this.metrics = metrics;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            this.context = context;
            store = context.getStateStore(storeName);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            if (record.key() == null) {
                reject(record, "no record key");
            } else if (record.value() == null) {
                store.delete(record.key());
            } else {
                try {
                    StateTopicRecords.decode(topic, record.key(), record.value());
                    store.put(record.key(), record.value());
                } catch (EventFormatException e) {
                    reject(record, e.getMessage());
                }
            }
        }

        private void reject(Record<String, byte[]> record, String reason) {
            metrics.stateRecordRejected(topic);
            String where = context.recordMetadata().map(m -> m.topic() + "/" + m.partition() + "/" + m.offset()).orElse(topic);
            LOG.warn("state record {} (key {}) not loaded, the last good value stays: {}", where, record.key(), reason);
        }
    }
}
