package dev.tollgate.projector.support;

import dev.tollgate.projector.BillingServiceApplication;
import dev.tollgate.testkit.auth.TestTokens;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** One billing service instance (projector, invoice writer, API) in this JVM on a free port. */
public final class BillingInstance implements AutoCloseable {
    public static final TestTokens TOKENS = new TestTokens("billing-test-secret-long-enough-for-hs256!", "tollgate-test", "tollgate-admin");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final ConfigurableApplicationContext context;
    private final int port;

    private BillingInstance(ConfigurableApplicationContext context) {
        this.context = context;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    /** Settings of an instance; {@link #start()} runs it. */
    public static final class Builder {
        private final Map<String, Object> properties = new LinkedHashMap<>();

        Builder(String kafka, PostgresDatabase database, String applicationId, Path stateDir) {
            properties.put("server.port", 0);
            properties.put("spring.datasource.url", database.jdbcUrl());
            properties.put("spring.datasource.username", database.user());
            properties.put("spring.datasource.password", database.password());
            properties.put("tollgate.kafka.bootstrap-servers", kafka);
            properties.put("tollgate.projector.application-id", applicationId);
            properties.put("tollgate.projector.state-dir", stateDir.toString());
            properties.put("tollgate.instance-id", applicationId + "-" + stateDir.getFileName());
            properties.put("tollgate.projector.quota-emit-interval", "PT0.1S");
            properties.put("tollgate.invoice-writer.group-id", applicationId + "-writer");
            properties.put("tollgate.jwt.hs256-secret", TOKENS.secret());
            properties.put("tollgate.jwt.issuer", TOKENS.issuer());
            properties.put("tollgate.jwt.audience", TOKENS.audience());
        }

        public Builder set(String name, Object value) {
            properties.put(name, value);
            return this;
        }

        public BillingInstance start() {
            // Command-line arguments outrank billing.yml (builder properties would only be defaults).
            String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
            return new BillingInstance(BillingServiceApplication.builder().run(args));
        }
    }

    public static Builder builder(String kafka, PostgresDatabase database, String applicationId, Path stateDir) {
        return new Builder(kafka, database, applicationId, stateDir);
    }

    public int port() {
        return port;
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    public HttpResponse<String> call(String method, String path, String token) {
        return call(method, path, token, null, Map.of());
    }

    public HttpResponse<String> call(String method, String path, String token, String body, Map<String, String> headers) {
        var builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        headers.forEach(builder::header);
        try {
            return HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        context.close();
    }
}
