package dev.tollgate.testkit.postgres;

import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.UUID;

/**
 * A fresh, uniquely named PostgreSQL database on the local server (127.0.0.1:5432, user
 * {@code postgres}, trust auth, unless {@code TOLLGATE_PG_HOST}/{@code TOLLGATE_PG_PORT}/
 * {@code TOLLGATE_PG_USER}/{@code TOLLGATE_PG_PASSWORD} say otherwise), dropped on close.
 */
public final class PostgresDatabase implements AutoCloseable {
    private final String name;
    private final Server server;

    private PostgresDatabase(Server server, String name) {
        this.server = server;
        this.name = name;
    }

    /** The server connection settings, from the environment with local defaults. */
    public record Server(String host, int port, String user, String password) {
        /** Reads {@code TOLLGATE_PG_*}, defaulting to the machine's local trust-auth server. */
        public static Server fromEnvironment() {
            return new Server(env("TOLLGATE_PG_HOST", "127.0.0.1"),
                    Integer.parseInt(env("TOLLGATE_PG_PORT", "5432")),
                    env("TOLLGATE_PG_USER", "postgres"),
                    env("TOLLGATE_PG_PASSWORD", ""));
        }

        /** JDBC URL of {@code database} on this server. */
        public String jdbcUrl(String database) {
            return "jdbc:postgresql://" + host + ":" + port + "/" + database;
        }

        Connection connect(String database) throws SQLException {
            return DriverManager.getConnection(jdbcUrl(database), user, password);
        }

        private static String env(String key, String fallback) {
            String value = System.getenv(key);
            return value == null || value.isBlank() ? fallback : value;
        }
    }

    /** Creates a database named after {@code prefix} plus a random suffix. */
    public static PostgresDatabase create(String prefix) {
        return create(Server.fromEnvironment(), prefix);
    }

    /** Creates a database on {@code server} named after {@code prefix} plus a random suffix. */
    public static PostgresDatabase create(Server server, String prefix) {
        String safe = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
        if (safe.length() > 40) {
            safe = safe.substring(safe.length() - 40);
        }
        String name = "tg_" + safe + "_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection admin = server.connect("postgres"); var statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE \"" + name + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + " on " + server.jdbcUrl("postgres")
                    + " (is PostgreSQL running? .ci/run starts it)", e);
        }
        return new PostgresDatabase(server, name);
    }

    /** Applies the Flyway migrations found at {@code locations} (e.g. {@code classpath:db/migration}). */
    public PostgresDatabase migrate(String... locations) {
        Flyway.configure()
                .dataSource(jdbcUrl(), server.user(), server.password())
                .locations(locations)
                .load()
                .migrate();
        return this;
    }

    /** The database's name. */
    public String name() {
        return name;
    }

    /** JDBC URL of this database. */
    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    /** The user to connect as. */
    public String user() {
        return server.user();
    }

    /** The password to connect with (empty under trust auth). */
    public String password() {
        return server.password();
    }

    /** A new connection to this database; the caller closes it. */
    public Connection connect() throws SQLException {
        return server.connect(name);
    }

    @Override
    public void close() {
        try (Connection admin = server.connect("postgres"); var statement = admin.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop database " + name, e);
        }
    }
}
