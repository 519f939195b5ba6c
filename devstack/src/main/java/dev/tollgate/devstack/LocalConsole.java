package dev.tollgate.devstack;

import dev.tollgate.console.ConsoleApplication;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.Map;

/**
 * The console, run inside the dev stack's JVM on 127.0.0.1: signs in with the dev identity
 * provider and shows the admin and billing APIs of this stack. Plain http on loopback, so its
 * session cookie drops {@code Secure} and the {@code __Host-} prefix that production keeps.
 */
final class LocalConsole implements AutoCloseable {
    /**
     * What the other services of this JVM bring onto the classpath and the console must not start: it has no database,
     * and no Flyway migrations (ADR 0026); the event store Axon's auto-configuration
     * makes in every context of this JVM stays in memory and unused, as in the billing service's.
     */
    static final String NOT_THE_CONSOLES = String.join(",",
            "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
            "org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration",
            "org.springframework.boot.autoconfigure.jdbc.JdbcTemplateAutoConfiguration",
            "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
            DevIdentityProvider.ITS_AUTO_CONFIGURATION);

    private final ConfigurableApplicationContext context;
    private final int port;

    private LocalConsole(ConfigurableApplicationContext context, int port) {
        this.context = context;
        this.port = port;
    }

    static LocalConsole start(int port, String adminUrl, String billingUrl, String gatewayUrl, DevIdentityProvider idp, DevSecrets secrets) {
        Map<String, Object> properties = Map.ofEntries(
                Map.entry("server.port", port),
                Map.entry("server.address", "127.0.0.1"),
                Map.entry("server.servlet.session.cookie.name", "tollgate-console"),
                Map.entry("server.servlet.session.cookie.secure", false),
                Map.entry("spring.security.oauth2.client.provider.tollgate.issuer-uri", idp.issuer()),
                Map.entry("spring.security.oauth2.client.registration.tollgate.client-id", DevIdentityProvider.CLIENT_ID),
                Map.entry("spring.security.oauth2.client.registration.tollgate.client-secret", secrets.consoleClientSecret()),
                Map.entry("tollgate.console.admin-api-url", adminUrl),
                Map.entry("tollgate.console.billing-api-url", billingUrl),
                Map.entry("tollgate.console.gateway-url", gatewayUrl),
                Map.entry("spring.main.banner-mode", "off"),
                Map.entry("spring.autoconfigure.exclude", NOT_THE_CONSOLES));
        String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        return new LocalConsole(ConsoleApplication.builder().run(args), port);
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        context.close();
    }
}
