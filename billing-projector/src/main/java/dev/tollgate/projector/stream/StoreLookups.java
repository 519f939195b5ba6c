package dev.tollgate.projector.stream;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.projector.quota.QuotaLookups;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link QuotaLookups} over the global stores of {@code tenants.state.v1}, {@code keys.state.v1} and
 * {@code pricelists.state.v1} (raw JSON values, as the topics hold them). The price book is rebuilt
 * from the store whenever the number of lists in it changes: lists are never edited, only added, so
 * a new count is a new list, and the very next event is priced with it.
 *
 * <p>A tenant or key is decoded once per stored value, not once per event: each lookup still reads the
 * store, and decodes again only when the stored bytes differ from those it decoded last (issue #24: the
 * JSON decoding of the same tenant, three times per event, was a tenth of the stream thread's CPU). Not
 * thread-safe: one instance per processor, or per use outside the topology.
 */
public final class StoreLookups implements QuotaLookups {
    /** Decoded tenants and keys kept, the least recently used dropped first. */
    static final int DECODED_ENTRIES = 10_000;

    private ReadOnlyKeyValueStore<String, byte[]> tenants;
    private ReadOnlyKeyValueStore<String, byte[]> keys;
    private ReadOnlyKeyValueStore<String, byte[]> priceLists;
    private PriceBook priceBook = new PriceBook();
    private long priceBookBuiltFrom = -1;
    private final Decoded<TenantState> decodedTenants = new Decoded<>(TenantState.class);
    private final Decoded<KeyState> decodedKeys = new Decoded<>(KeyState.class);

    /** The last decoded state of each id, with a copy of the bytes it came from. */
    static final class Decoded<T extends StateRecord> {
        private record Seen<T>(byte[] json, T state) {}

        private final Class<T> type;
        private final Map<String, Seen<T>> entries = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Seen<T>> eldest) {
                return size() > DECODED_ENTRIES;
            }
        };

        Decoded(Class<T> type) {
            this.type = type;
        }

        /** {@code json} (what the store holds for {@code id} now, or null) decoded. */
        T of(String id, byte[] json) {
            if (json == null) {
                entries.remove(id);
                return null;
            }
            Seen<T> seen = entries.get(id);
            if (seen != null && Arrays.equals(seen.json(), json)) {
                return seen.state();
            }
            T state = EventCodec.decodeState(json, type);
            entries.put(id, new Seen<>(json.clone(), state));
            return state;
        }
    }

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
        return decodedTenants.of(tenantId, tenants.get(tenantId));
    }

    @Override
    public KeyState key(String keyId) {
        return decodedKeys.of(keyId, keys.get(keyId));
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
