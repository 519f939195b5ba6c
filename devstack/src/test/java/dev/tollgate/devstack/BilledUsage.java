package dev.tollgate.devstack;

import dev.tollgate.billing.UsageBilling;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;

import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

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
}
