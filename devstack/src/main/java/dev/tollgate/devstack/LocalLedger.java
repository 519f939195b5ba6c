package dev.tollgate.devstack;

import dev.tollgate.ledger.LedgerApplication;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;

/**
 * The ledger service, run inside the dev stack's JVM against the local PostgreSQL (database
 * {@code tollgate_dev_ledger} unless told otherwise, created on first start) and the in-JVM Kafka.
 * When no PostgreSQL server is reachable it starts an embedded PostgreSQL 17 (from Maven Central)
 * keeping its data under the dev stack's data directory.
 */
final class LocalLedger implements AutoCloseable {
    /** The database the dev stack keeps the ledger in, unless {@code --ledger-database} names another. */
    static final String DEFAULT_DATABASE = "tollgate_dev_ledger";
    /** The {@code aud} the admin and billing APIs require (the dev identity provider puts it on its access tokens). */
    static final String AUDIENCE = "tollgate-admin";
    /** The dev stack's admin token lives 30 days (DemoSeed): its APIs accept that, production's default is a day. */
    static final String DEV_TOKEN_LIFETIME = "P31D";

    private final ConfigurableApplicationContext context;
    private final int port;
    private final EmbeddedPostgres embedded;

    private final PostgresDatabase.Server server;

    private LocalLedger(ConfigurableApplicationContext context, EmbeddedPostgres embedded, PostgresDatabase.Server server) {
        this.context = context;
        this.server = server;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port", "0"));
        this.embedded = embedded;
    }

    /** Where the ledger's PostgreSQL is: a reachable server, else (if allowed) an embedded one in {@code dataDir}. */
    private record Database(PostgresDatabase.Server server, EmbeddedPostgres embedded) {}

    private static Database database(PostgresDatabase.Server configured, Path dataDir, boolean embeddedAllowed) {
        if (reachable(configured)) {
            return new Database(configured, null);
        }
        if (!embeddedAllowed) {
            throw new IllegalStateException("PostgreSQL is not reachable at " + configured.jdbcUrl("postgres")
                    + " as user " + configured.user() + ". Start it (on Debian: pg_ctlcluster <version> main start), point "
                    + "TOLLGATE_PG_HOST/TOLLGATE_PG_PORT/TOLLGATE_PG_USER/TOLLGATE_PG_PASSWORD at one, or allow "
                    + "--embedded-postgres auto.");
        }
        Path directory = dataDir.resolve("postgres");
        System.out.println("PostgreSQL is not reachable at " + configured.jdbcUrl("postgres")
                + "; starting an embedded PostgreSQL 17 with its data in " + directory);
        try {
            Files.createDirectories(directory);
            EmbeddedPostgres embedded = EmbeddedPostgres.builder()
                    .setDataDirectory(directory.resolve("data"))
                    .setCleanDataDirectory(false)
                    .setOverrideWorkingDirectory(directory.resolve("binaries").toFile())
                    .start();
            return new Database(new PostgresDatabase.Server("127.0.0.1", embedded.getPort(), "postgres", ""), embedded);
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL is not reachable at " + configured.jdbcUrl("postgres")
                    + " and the embedded PostgreSQL could not start: " + e.getMessage(), e);
        }
    }

    private static boolean reachable(PostgresDatabase.Server server) {
        try (Connection ignored = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password())) {
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * Starts the ledger on {@code port} (0 for a free one). When Kafka's storage is new but the
     * database is not, the publisher's token is reset so the topics are rebuilt from the event store.
     */
    static LocalLedger start(int port, String database, String kafkaBootstrap, boolean kafkaIsEmpty, DevSecrets secrets, DevIdentityProvider idp,
                             PostgresDatabase.Server configured, Path dataDir, boolean embeddedAllowed) {
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("--ledger-database must be a lower-case PostgreSQL identifier, was '" + database + "'");
        }
        Database db = database(configured, dataDir, embeddedAllowed);
        PostgresDatabase.Server server = db.server();
        ensureDatabase(server, database);
        if (kafkaIsEmpty) {
            resetPublisherToken(server, database);
        }
        Map<String, Object> properties = Map.ofEntries(
                Map.entry("server.port", port),
                Map.entry("spring.datasource.url", server.jdbcUrl(database)),
                Map.entry("spring.datasource.username", server.user()),
                Map.entry("spring.datasource.password", server.password()),
                Map.entry("tollgate.instance-id", "dev-ledger"),
                Map.entry("tollgate.kafka.bootstrap-servers", kafkaBootstrap),
                Map.entry("tollgate.jwt.jwks-uri", idp.jwksUri()),
                Map.entry("tollgate.jwt.issuer", idp.issuer()),
                Map.entry("tollgate.jwt.audience", AUDIENCE),
                Map.entry("tollgate.jwt.max-token-lifetime", DEV_TOKEN_LIFETIME),
                Map.entry("tollgate.webhook-master-key", secrets.webhookMasterKey()),
                // Development: a webhook receiver on this machine is a fine target (production refuses internal addresses).
                Map.entry("tollgate.webhooks.allow-private-targets", true),
                Map.entry("spring.main.banner-mode", "off"),
                Map.entry("spring.autoconfigure.exclude", DevIdentityProvider.ITS_AUTO_CONFIGURATION));
        // As command-line arguments: they take precedence over the ledger's application.yml.
        String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        try {
            ConfigurableApplicationContext context = new SpringApplicationBuilder(LedgerApplication.class).run(args);
            return new LocalLedger(context, db.embedded(), server);
        } catch (RuntimeException e) {
            closeQuietly(db.embedded());
            throw e;
        }
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** The PostgreSQL server the ledger uses (the local one, or the embedded fallback): billing uses it too. */
    PostgresDatabase.Server server() {
        return server;
    }

    /** True if the ledger runs on the embedded PostgreSQL fallback. */
    boolean embeddedPostgres() {
        return embedded != null;
    }

    @Override
    public void close() {
        context.close();
        closeQuietly(embedded);
    }

    private static void closeQuietly(EmbeddedPostgres embedded) {
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                System.err.println("stopping the embedded PostgreSQL: " + e);
            }
        }
    }

    static void ensureDatabase(PostgresDatabase.Server server, String database) {
        try (Connection admin = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var exists = admin.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, database);
            if (!exists.executeQuery().next()) {
                try (var create = admin.createStatement()) {
                    create.execute("CREATE DATABASE " + database);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + database + " on " + server.jdbcUrl("postgres"), e);
        }
    }

    private static void resetPublisherToken(PostgresDatabase.Server server, String database) {
        try (Connection connection = DriverManager.getConnection(server.jdbcUrl(database), server.user(), server.password());
             var statement = connection.createStatement()) {
            var tables = connection.getMetaData().getTables(null, "public", "tokenentry", null);
            if (tables.next()) {
                statement.executeUpdate("DELETE FROM tokenentry WHERE processorname = 'ledger-publisher'");
                statement.executeUpdate("TRUNCATE tenant_view, api_key_view, plan_view, price_list_view, credit_grant_view");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reset the ledger publisher in " + database, e);
        }
    }
}
