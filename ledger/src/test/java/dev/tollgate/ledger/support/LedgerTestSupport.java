package dev.tollgate.ledger.support;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.tollgate.testkit.auth.TestTokens;
import dev.tollgate.testkit.kafka.SharedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Base of the ledger's integration tests: the whole service on a random port, a fresh PostgreSQL
 * database per test class, the shared in-JVM Kafka broker, and HS256 tokens minted for any role.
 * The database is dropped only after the Spring context (and its event processors) has stopped.
 */
@ExtendWith(LedgerTestSupport.DropDatabase.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
public abstract class LedgerTestSupport {
    public static final String JWT_SECRET = "test-secret-that-is-long-enough-for-hs256!";
    public static final String ISSUER = "tollgate-test";
    public static final String AUDIENCE = "tollgate-admin";
    public static final String WEBHOOK_MASTER_KEY = "test-webhook-master-key-of-32-bytes-or-more";

    private static PostgresDatabase database;
    /** Set by a test class that runs the ledger in production (JWKS) mode; read lazily by the properties. */
    protected static final AtomicReference<String> jwksUri = new AtomicReference<>();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @LocalServerPort
    protected int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        database = PostgresDatabase.create("ledger_it");
        registry.add("spring.datasource.url", database::jdbcUrl);
        registry.add("spring.datasource.username", database::user);
        registry.add("spring.datasource.password", database::password);
        registry.add("tollgate.kafka.bootstrap-servers", () -> SharedKafka.get().bootstrapServers());
        registry.add("tollgate.jwt.hs256-secret", () -> jwksUri.get() == null ? JWT_SECRET : "");
        registry.add("tollgate.jwt.jwks-uri", () -> jwksUri.get() == null ? "" : jwksUri.get());
        registry.add("tollgate.jwt.issuer", () -> ISSUER);
        registry.add("tollgate.jwt.audience", () -> AUDIENCE);
        registry.add("tollgate.key-expiry-sweep", () -> "PT1H");
        registry.add("tollgate.webhook-master-key", () -> WEBHOOK_MASTER_KEY);
    }

    protected static PostgresDatabase database() {
        return database;
    }

    protected static String kafka() {
        return SharedKafka.get().bootstrapServers();
    }

    /** A unique tenant id, so that test classes sharing the broker never see each other's tenants. */
    protected static String newTenantId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A valid token for {@code subject} with {@code roles}, bound to {@code tenant} (may be null). */
    public static String token(String subject, List<String> roles, String tenant) {
        var claims = new JWTClaimsSet.Builder().subject(subject).issuer(ISSUER).audience(AUDIENCE)
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(600))).claim("roles", roles);
        if (tenant != null) {
            claims.claim("tenant", tenant);
        }
        return sign(claims.build(), JWT_SECRET);
    }

    public static String sign(JWTClaimsSet claims, String secret) {
        return TestTokens.sign(claims, secret);
    }

    protected static String platformAdmin() {
        return token("ops@platform", List.of("platform-admin"), null);
    }

    protected HttpResponse<String> call(String method, String path, String token, String json, Map<String, String> headers) {
        var builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .header("content-type", "application/json");
        if (token != null) {
            builder.header("authorization", "Bearer " + token);
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

    protected HttpResponse<String> call(String method, String path, String token, String json) {
        return call(method, path, token, json, Map.of());
    }

    /** Drops the class's database after Spring has closed the context (registered before SpringExtension). */
    public static final class DropDatabase implements AfterAllCallback {
        @Override
        public void afterAll(ExtensionContext context) {
            if (database != null) {
                database.close();
                database = null;
            }
        }
    }
}
