package dev.tollgate.devstack;

import dev.tollgate.projector.BillingServiceApplication;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The billing service (projector, invoice writer, billing API) inside the dev stack's JVM, on the
 * ledger's PostgreSQL server (database {@code tollgate_dev_billing} unless told otherwise). When
 * Kafka's storage is new, the billing database and the projector's state are cleared too, so that
 * invoices always describe the usage on the topics.
 */
final class LocalBilling implements AutoCloseable {
    static final String DEFAULT_DATABASE = "tollgate_dev_billing";
    /** The fake Stripe takes any secret key of this shape. */
    static final String DEV_STRIPE_KEY = "sk_test_tollgate_dev";

    private final ConfigurableApplicationContext context;
    private final int port;

    private LocalBilling(ConfigurableApplicationContext context) {
        this.context = context;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port", "0"));
    }

    /** @param stripeApiBase the fake Stripe the dev stack runs (credit purchases, invoice sync) */
    static LocalBilling start(int port, String database, PostgresDatabase.Server server, String kafkaBootstrap, boolean kafkaIsEmpty,
                              DevSecrets secrets, DevIdentityProvider idp, Path dataDir, String stripeApiBase, String consoleUrl) {
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("--billing-database must be a lower-case PostgreSQL identifier, was '" + database + "'");
        }
        Path stateDir = dataDir.resolve("projector-state");
        if (kafkaIsEmpty) {
            dropDatabase(server, database);
            deleteRecursively(stateDir);
        }
        LocalLedger.ensureDatabase(server, database);
        Map<String, Object> properties = Map.ofEntries(
                Map.entry("server.port", port),
                Map.entry("spring.datasource.url", server.jdbcUrl(database)),
                Map.entry("spring.datasource.username", server.user()),
                Map.entry("spring.datasource.password", server.password()),
                Map.entry("tollgate.instance-id", "dev-billing"),
                Map.entry("tollgate.kafka.bootstrap-servers", kafkaBootstrap),
                Map.entry("tollgate.projector.application-id", "tollgate-dev-projector"),
                Map.entry("tollgate.projector.state-dir", stateDir.toString()),
                Map.entry("tollgate.jwt.jwks-uri", idp.jwksUri()),
                Map.entry("tollgate.jwt.issuer", idp.issuer()),
                Map.entry("tollgate.jwt.audience", LocalLedger.AUDIENCE),
                Map.entry("tollgate.jwt.max-token-lifetime", LocalLedger.DEV_TOKEN_LIFETIME),
                // Budget alerts and test events go out, signed with the secret the ledger shows; to local receivers too.
                Map.entry("tollgate.webhooks.master-key", secrets.webhookMasterKey()),
                Map.entry("tollgate.webhooks.allow-private-targets", true),
                Map.entry("tollgate.stripe.api-key", DEV_STRIPE_KEY),
                Map.entry("tollgate.stripe.api-base", stripeApiBase),
                Map.entry("tollgate.stripe.webhook-secret", secrets.stripeWebhookSecret()),
                Map.entry("tollgate.stripe.checkout-success-url", consoleUrl + "/"),
                Map.entry("spring.main.banner-mode", "off"),
                Map.entry("spring.autoconfigure.exclude", DevIdentityProvider.ITS_AUTO_CONFIGURATION));
        String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        return new LocalBilling(BillingServiceApplication.builder().run(args));
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Where Stripe delivers its events. */
    String stripeWebhookUrl() {
        return url() + "/billing/v1/stripe/webhook";
    }

    private static void dropDatabase(PostgresDatabase.Server server, String database) {
        try (var admin = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
             var statement = admin.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reset database " + database, e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }

    @Override
    public void close() {
        context.close();
    }
}
