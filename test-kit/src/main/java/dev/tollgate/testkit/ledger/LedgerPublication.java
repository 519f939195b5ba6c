package dev.tollgate.testkit.ledger;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The ledger's events in its event store against those on ledger.events.v1, by event id: what the
 * fault tests count after breaking the ledger (none lost, none unknown, none sent twice).
 *
 * @param stored    ids of the ledger's domain events in the Axon event store
 * @param published event id to the number of ledger.events.v1 records carrying it
 */
public record LedgerPublication(Set<String> stored, Map<String, Integer> published) {
    public LedgerPublication {
        stored = Set.copyOf(stored);
        published = Map.copyOf(published);
    }

    /**
     * Reads the store once, then the topic until it holds every stored event or {@code timeout} passes
     * (the publisher catching up), and compares.
     */
    public static LedgerPublication awaitPublished(Connection ledgerStore, String bootstrapServers, Duration timeout)
            throws SQLException, InterruptedException {
        Set<String> stored = storedEventIds(ledgerStore);
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Integer> published = publishedIds(bootstrapServers);
        while (!published.keySet().containsAll(stored) && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            published = publishedIds(bootstrapServers);
        }
        return new LedgerPublication(stored, published);
    }

    /** Stored, never published. */
    public Set<String> lost() {
        var lost = new HashSet<>(stored);
        lost.removeAll(published.keySet());
        return lost;
    }

    /** Published, not in the store. */
    public Set<String> unknown() {
        var unknown = new HashSet<>(published.keySet());
        unknown.removeAll(stored);
        return unknown;
    }

    /** Records beyond one per event id: events sent twice. */
    public long duplicateRecords() {
        return published.values().stream().mapToInt(n -> n - 1).sum();
    }

    private static Set<String> storedEventIds(Connection ledgerStore) throws SQLException {
        var ids = new HashSet<String>();
        try (var statement = ledgerStore.createStatement();
             ResultSet rs = statement.executeQuery("select eventidentifier from domainevententry where payloadtype like 'dev.tollgate.schemas.ledger.%'")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    private static Map<String, Integer> publishedIds(String bootstrapServers) {
        var counts = new HashMap<String, Integer>();
        TopicReader.readAll(bootstrapServers, Topics.LEDGER_EVENTS.name())
                .forEach(record -> counts.merge(EventCodec.decode(record.value()).id(), 1, Integer::sum));
        return counts;
    }
}
