package dev.tollgate.devstack;

import dev.tollgate.billing.UsageBilling;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;

import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.awaitility.Awaitility.await;

/** Following usage by event id from usage.v1 to the billing database, for the fault tests' counts. */
final class BilledUsage {
    private BilledUsage() {}

    /** Event id -> records on usage.v1, for the tenant's billable events (not the accepted/rejected markers). */
    static Map<String, Integer> produced(String bootstrap, String tenant) {
        var counts = new HashMap<String, Integer>();
        TopicReader.readAll(bootstrap, Topics.USAGE.name()).forEach(record -> {
            var event = EventCodec.decode(record.value());
            if (tenant.equals(event.tenantid()) && UsageBilling.of(event).isPresent()) {
                counts.merge(event.id(), 1, Integer::sum);
            }
        });
        return counts;
    }

    /** The ids of every billable event on usage.v1, all tenants. */
    static Set<String> billable(String bootstrap) {
        var ids = new HashSet<String>();
        TopicReader.readAll(bootstrap, Topics.USAGE.name()).forEach(record -> {
            var event = EventCodec.decode(record.value());
            if (UsageBilling.of(event).isPresent()) {
                ids.add(event.id());
            }
        });
        return ids;
    }

    /** Event id -> the price list it is billed with now (null: unpriced). */
    static Map<String, String> priceLists(PostgresDatabase.Server server, String database) throws SQLException {
        var lists = new HashMap<String, String>();
        try (var connection = DriverManager.getConnection(server.jdbcUrl(database), server.user(), server.password());
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select event_id, price_list_id from billed_usage")) {
            while (rs.next()) {
                lists.put(rs.getString(1), rs.getString(2));
            }
        }
        return lists;
    }

    /** Rows of billed_usage, or -1 while the database cannot be reached. */
    static long rows(PostgresDatabase.Server server, String database) {
        try (var connection = DriverManager.getConnection(server.jdbcUrl(database), server.user(), server.password());
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select count(*) from billed_usage")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    /** The event ids of billed_usage. */
    static Set<String> ids(PostgresDatabase.Server server, String database) throws SQLException {
        var ids = new HashSet<String>();
        try (var connection = DriverManager.getConnection(server.jdbcUrl(database), server.user(), server.password());
             var statement = connection.createStatement(); ResultSet rs = statement.executeQuery("select event_id from billed_usage")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    /**
     * What became of a tenant's billable usage once billing caught up, by event id.
     *
     * @param produced   distinct events on usage.v1
     * @param lost       produced, never billed
     * @param unknown    billed, never produced
     * @param duplicated rows of billed_usage beyond one per event (billed twice)
     * @param resent     records on usage.v1 beyond one per event (sent again under the same id; consumers deduplicate)
     */
    record Tally(Set<String> producedIds, Set<String> billedIds, Set<String> lost, Set<String> unknown, long duplicated, long resent) {
        int produced() {
            return producedIds.size();
        }

        int billed() {
            return billedIds.size();
        }
    }

    /**
     * Waits until at least {@code served} of the tenant's billable events are on usage.v1 and billing has a
     * row for as many, then counts.
     */
    static Tally awaitBilled(String bootstrap, PostgresDatabase.Server server, String database, String tenant, int served) throws SQLException {
        await().atMost(Duration.ofMinutes(1)).until(() -> produced(bootstrap, tenant).size() >= served);
        Map<String, Integer> records = produced(bootstrap, tenant);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() -> rows(server, database) >= records.size());
        Set<String> billed = ids(server, database);
        var lost = new HashSet<>(records.keySet());
        lost.removeAll(billed);
        var unknown = new HashSet<>(billed);
        unknown.removeAll(records.keySet());
        long resent = records.values().stream().mapToInt(n -> n - 1).sum();
        return new Tally(records.keySet(), billed, lost, unknown, rows(server, database) - billed.size(), resent);
    }

    /** Drops the databases a test created (and any connection still open to them). */
    static void dropDatabases(PostgresDatabase.Server server, String... databases) throws SQLException {
        try (var connection = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var statement = connection.createStatement()) {
            for (String database : databases) {
                statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }
}
