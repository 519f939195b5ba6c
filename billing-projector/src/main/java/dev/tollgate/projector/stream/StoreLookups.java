package dev.tollgate.projector.stream;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.projector.quota.QuotaLookups;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link QuotaLookups} over the global stores of {@code tenants.state.v1}, {@code keys.state.v1} and
 * {@code pricelists.state.v1} (raw JSON values, as the topics hold them). The price book is rebuilt
 * from the store whenever the number of lists in it changes: lists are never edited, only added, so
 * a new count is a new list, and the very next event is priced with it.
 */
public final class StoreLookups implements QuotaLookups {
    private ReadOnlyKeyValueStore<String, byte[]> tenants;
    private ReadOnlyKeyValueStore<String, byte[]> keys;
    private ReadOnlyKeyValueStore<String, byte[]> priceLists;
    private PriceBook priceBook = new PriceBook();
    private long priceBookBuiltFrom = -1;

    /** Lookups inside a processor: {@link #init} binds the stores. */
    public StoreLookups() {}

    /** Lookups over the global stores as interactive queries see them (outside the topology: the re-pricer). */
    public static StoreLookups over(KafkaStreams streams) {
        var lookups = new StoreLookups();
        lookups.tenants = streams.store(StoreQueryParameters.fromNameAndType(ProjectorTopology.TENANTS_STORE, QueryableStoreTypes.keyValueStore()));
        lookups.keys = streams.store(StoreQueryParameters.fromNameAndType(ProjectorTopology.KEYS_STORE, QueryableStoreTypes.keyValueStore()));
        lookups.priceLists = streams.store(StoreQueryParameters.fromNameAndType(ProjectorTopology.PRICELISTS_STORE,
                QueryableStoreTypes.keyValueStore()));
        return lookups;
    }

    @Override
    public void init(ProcessorContext<?, ?> context) {
        tenants = context.getStateStore(ProjectorTopology.TENANTS_STORE);
        keys = context.getStateStore(ProjectorTopology.KEYS_STORE);
        priceLists = context.getStateStore(ProjectorTopology.PRICELISTS_STORE);
    }

    @Override
    public TenantState tenant(String tenantId) {
        byte[] json = tenants.get(tenantId);
        return json == null ? null : EventCodec.decodeState(json, TenantState.class);
    }

    @Override
    public KeyState key(String keyId) {
        byte[] json = keys.get(keyId);
        return json == null ? null : EventCodec.decodeState(json, KeyState.class);
    }

    @Override
    public PriceBook priceBook() {
        long count = priceLists.approximateNumEntries(); // exact for the in-memory store
        if (count != priceBookBuiltFrom) {
            priceBook = build();
            priceBookBuiltFrom = count;
        }
        return priceBook;
    }

    /** Every tenant in the store (the re-pricer looks for those on a plan). */
    public List<TenantState> allTenants() {
        var all = new ArrayList<TenantState>();
        try (KeyValueIterator<String, byte[]> it = tenants.all()) {
            while (it.hasNext()) {
                all.add(EventCodec.decodeState(it.next().value, TenantState.class));
            }
        }
        return all;
    }

    /** True when the store holds the price list {@code priceListId}. */
    public boolean hasPriceList(String priceListId) {
        return priceLists.get(priceListId) != null;
    }

    private PriceBook build() {
        var book = new PriceBook();
        try (KeyValueIterator<String, byte[]> all = priceLists.all()) {
            while (all.hasNext()) {
                book.add(EventCodec.mapper().readValue(all.next().value, PriceListPublished.class));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable price list in the store", e);
        }
        return book;
    }
}
