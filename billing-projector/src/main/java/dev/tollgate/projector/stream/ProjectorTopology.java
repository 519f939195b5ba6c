package dev.tollgate.projector.stream;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.projector.quota.QuotaProcessor;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
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

import java.time.Duration;
import java.util.Optional;

/**
 * The projector's topology, built by one pure function: usage.v1 -> parse (malformed to
 * deadletter.v1) -> deduplicate by event id -> what each event bills -> quota usage per tenant and
 * key per day and billing period -> quota.state.v1. The ledger's tenants, keys and price lists are
 * global stores read from their compacted topics.
 */
public final class ProjectorTopology {
    public static final String TENANTS_STORE = "tenants";
    public static final String KEYS_STORE = "keys";
    public static final String PRICELISTS_STORE = "pricelists";
    static final String SEEN_STORE = "seen-event-ids";
    static final String QUOTA_STORE = "quota-usage";

    private ProjectorTopology() {}

    /**
     * @param dedupHorizon  how long an event id is remembered (must exceed the producers' retry horizon)
     * @param emitInterval  at most one quota state per window per interval
     */
    public static Topology build(Duration dedupHorizon, Duration emitInterval) {
        var topology = new Topology();
        globalStore(topology, TENANTS_STORE, Topics.TENANTS_STATE.name());
        globalStore(topology, KEYS_STORE, Topics.KEYS_STATE.name());
        globalStore(topology, PRICELISTS_STORE, Topics.PRICELISTS_STATE.name());

        topology.addSource("usage", new StringDeserializer(), new ByteArrayDeserializer(), Topics.USAGE.name());
        topology.addProcessor("parse", () -> new ParseOrDeadLetter("dedup", "dead-letters"), "usage");
        topology.addSink("dead-letters", Topics.DEAD_LETTER.name(), new StringSerializer(),
                (topic, value) -> (byte[]) value, "parse");
        topology.addProcessor("dedup", () -> new DeduplicateByEventId(SEEN_STORE, dedupHorizon), "parse");
        topology.addStateStore(DeduplicateByEventId.storeBuilder(SEEN_STORE, dedupHorizon), "dedup");
        topology.addProcessor("billable", Billable::new, "dedup");
        topology.addProcessor("quota", () -> new QuotaProcessor(QUOTA_STORE, emitInterval, new StoreLookups()), "billable");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(QUOTA_STORE), Serdes.String(),
                Serdes.String()), "quota");
        Serializer<QuotaState> quotaSerializer = (topic, state) -> EventCodec.encodeState(state);
        topology.addSink("quota-state", Topics.QUOTA_STATE.name(), new StringSerializer(), quotaSerializer, "quota");
        return topology;
    }

    private static void globalStore(Topology topology, String store, String topic) {
        topology.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(store), Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(),
                store + "-source", new StringDeserializer(), new ByteArrayDeserializer(), topic, store + "-loader",
                () -> new StoreLoader(store));
    }

    /** Keeps the latest value per key (a tombstone deletes), exactly as restoration does. */
    private static final class StoreLoader implements Processor<String, byte[], Void, Void> {
        private final String storeName;
        private KeyValueStore<String, byte[]> store;

        StoreLoader(String storeName) {
            this.storeName = storeName;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(storeName);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            if (record.value() == null) {
                store.delete(record.key());
            } else {
                store.put(record.key(), record.value());
            }
        }
    }

    /** Maps each event to what it bills (nothing for accepted and rejected). */
    private static final class Billable implements Processor<String, Object, String, BillableUsage> {
        private ProcessorContext<String, BillableUsage> context;

        @Override
        public void init(ProcessorContext<String, BillableUsage> context) {
            this.context = context;
        }

        @Override
        @SuppressWarnings("unchecked")
        public void process(Record<String, Object> record) {
            Optional<BillableUsage> usage = UsageBilling.of((CloudEvent<EventData>) record.value());
            usage.ifPresent(u -> context.forward(record.withValue(u)));
        }
    }
}
