package dev.tollgate.projector.stream;

import dev.tollgate.projector.quota.QuotaLookups;
import dev.tollgate.projector.reprice.RepricedUsage;
import dev.tollgate.projector.usage.UsageBucket;
import dev.tollgate.projector.usage.UsageCounts;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.ZoneId;
import java.util.Objects;

/**
 * Adds the spend a ledger backfill changed ({@code usage.repriced.v1}) to the live usage of the
 * event's day and minute, so that the usage report keeps equal to the re-priced invoice. Each
 * (event, price list) is applied once: the store remembers the list each re-priced event was last
 * counted with, and a record sent twice (the re-pricer retried) finds it there.
 */
final class RepricedUsageProcessor implements Processor<String, byte[], Void, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(RepricedUsageProcessor.class);
    /** The marker of "no price in force" in the store (a list id is never empty). */
    private static final String UNPRICED = "";

    private final String appliedStore;
    private final QuotaLookups lookups;
    private KeyValueStore<String, String> applied;
    private UsageCounts counts;

    RepricedUsageProcessor(String appliedStore, QuotaLookups lookups) {
        this.appliedStore = appliedStore;
        this.lookups = lookups;
    }

    static StoreBuilder<KeyValueStore<String, String>> storeBuilder(String name) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(), Serdes.String());
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        applied = context.getStateStore(appliedStore);
        counts = UsageCounts.of(context, ProjectorTopology.DAY_STORE, ProjectorTopology.MINUTE_STORE);
        lookups.init(context);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RepricedUsage repriced;
        try {
            repriced = RepricedUsage.decode(record.value());
        } catch (RuntimeException e) {
            LOG.warn("skipping a usage.repriced.v1 record that does not decode: {}", e.getMessage());
            return;
        }
        String list = Objects.requireNonNullElse(repriced.priceListId(), UNPRICED);
        if (list.equals(applied.get(repriced.eventId()))) {
            return; // counted with this list already
        }
        TenantState tenant = lookups.tenant(repriced.tenantId());
        ZoneId zone = ZoneId.of(tenant == null ? "UTC" : tenant.billingTimeZone());
        counts.add(repriced.tenantId(), repriced.keyId(), repriced.model(), repriced.time(), zone,
                new UsageBucket(0, 0, 0, 0, repriced.spendDeltaMicros()));
        applied.put(repriced.eventId(), list);
    }
}
