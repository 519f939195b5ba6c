package dev.tollgate.devstack;

import dev.tollgate.ledger.LedgerApplication;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;

/**
 * The ledger service, run inside the dev stack's JVM against the local PostgreSQL (database
 * {@code tollgate_dev_ledger} unless told otherwise, created on first start) and the in-JVM Kafka.
 */
final class LocalLedger implements AutoCloseable {
    /** The database the dev stack keeps the ledger in, unless {@code --ledger-database} names another. */
    static final String DEFAULT_DATABASE = "tollgate_dev_ledger";
    static final String ISSUER = "tollgate-dev";
    static final String AUDIENCE = "tollgate-admin";

    private final ConfigurableApplicationContext context;
    private final int port;

    private LocalLedger(ConfigurableApplicationContext context) {
        this.context = context;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port", "0"));
    }

    /**
     * Starts the ledger on {@code port} (0 for a free one). When Kafka's storage is new but the
     * database is not, the publisher's token is reset so the topics are rebuilt from the event store.
     */
    static LocalLedger start(int port, String database, String kafkaBootstrap, boolean kafkaIsEmpty, DevSecrets secrets) {
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("--ledger-database must be a lower-case PostgreSQL identifier, was '" + database + "'");
        }
        PostgresDatabase.Server server = PostgresDatabase.Server.fromEnvironment();
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
                Map.entry("tollgate.jwt.hs256-secret", secrets.jwtSecret()),
                Map.entry("tollgate.jwt.issuer", ISSUER),
                Map.entry("tollgate.jwt.audience", AUDIENCE),
                Map.entry("tollgate.webhook-master-key", secrets.webhookMasterKey()),
                Map.entry("spring.main.banner-mode", "off"));
        // As command-line arguments: they take precedence over the ledger's application.yml.
        String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(LedgerApplication.class).run(args);
        return new LocalLedger(context);
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        context.close();
    }

    private static void ensureDatabase(PostgresDatabase.Server server, String database) {
        try (Connection admin = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var exists = admin.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, database);
            if (!exists.executeQuery().next()) {
                try (var create = admin.createStatement()) {
                    create.execute("CREATE DATABASE " + database);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL is not reachable at " + server.jdbcUrl("postgres")
                    + " as user " + server.user() + ". Start it (on Debian: pg_ctlcluster <version> main start) "
                    + "or point TOLLGATE_PG_HOST/TOLLGATE_PG_PORT/TOLLGATE_PG_USER/TOLLGATE_PG_PASSWORD at one.", e);
        }
    }

    private static void resetPublisherToken(PostgresDatabase.Server server, String database) {
        try (Connection connection = DriverManager.getConnection(server.jdbcUrl(database), server.user(), server.password());
             var statement = connection.createStatement()) {
            var tables = connection.getMetaData().getTables(null, "public", "tokenentry", null);
            if (tables.next()) {
                statement.executeUpdate("DELETE FROM tokenentry WHERE processorname = 'ledger-publisher'");
                statement.executeUpdate("TRUNCATE tenant_view, api_key_view, plan_view, price_list_view");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reset the ledger publisher in " + database, e);
        }
    }
}
