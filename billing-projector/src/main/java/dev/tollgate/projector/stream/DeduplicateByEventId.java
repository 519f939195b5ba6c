package dev.tollgate.projector.stream;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.time.Duration;

/**
 * Forwards each CloudEvent id once: a producer retry, a replayed spool or a duplicated record is
 * dropped if its id was seen within {@code horizon} (by record timestamp) in the same partition.
 * Duplicates share the tenant key, so they always meet in one partition. Under exactly-once the
 * store update and the forward commit together, so a failed write followed by a retry still
 * counts once, never zero times.
 */
public final class DeduplicateByEventId implements Processor<String, Object, String, Object> {
    private final String storeName;
    private final Duration horizon;
    private WindowStore<String, Long> seen;
    private ProcessorContext<String, Object> context;

    public DeduplicateByEventId(String storeName, Duration horizon) {
        this.storeName = storeName;
        this.horizon = horizon;
    }

    /** The store this processor needs: ids kept for {@code horizon} on each side of an event's time. */
    public static StoreBuilder<WindowStore<String, Long>> storeBuilder(String storeName, Duration horizon) {
        // Retention covers lookups up to one horizon back from the newest record seen.
        return Stores.windowStoreBuilder(
                Stores.persistentWindowStore(storeName, horizon.multipliedBy(2), horizon, false),
                Serdes.String(), Serdes.Long()).withCachingEnabled();
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.seen = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, Object> record) {
        @SuppressWarnings("unchecked")
        CloudEvent<EventData> event = (CloudEvent<EventData>) record.value();
        long time = record.timestamp();
        try (WindowStoreIterator<Long> previous = seen.fetch(event.id(), time - horizon.toMillis(), time + horizon.toMillis())) {
            if (previous.hasNext()) {
                return;
            }
        }
        seen.put(event.id(), time, time);
        context.forward(record);
    }
}
