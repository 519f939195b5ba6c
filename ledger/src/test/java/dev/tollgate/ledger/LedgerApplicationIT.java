package dev.tollgate.ledger;

import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ledger boots on a fresh PostgreSQL database: Flyway creates Axon's tables, Axon stores events
 * through its JDBC engine (bytea payloads) with the Jackson serializer, which handles records.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class LedgerApplicationIT {
    private static final PostgresDatabase DATABASE = PostgresDatabase.create("ledger_application_it");

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", DATABASE::jdbcUrl);
        registry.add("spring.datasource.username", DATABASE::user);
        registry.add("spring.datasource.password", DATABASE::password);
    }

    @AfterAll
    static void dropDatabase() {
        DATABASE.close();
    }

    /** A record payload, the shape every ledger event will have. */
    record ProbeHappened(String tenantId, long amountMicros, Instant at) {}

    @Autowired
    EventStore eventStore;
    @Autowired
    ApplicationContext context;
    @LocalServerPort
    int port;

    @Test
    void axonUsesTheJdbcEngineOnTheFlywaySchema() throws Exception {
        assertThat(context.getBean(org.axonframework.eventsourcing.eventstore.EventStorageEngine.class))
                .isInstanceOf(JdbcEventStorageEngine.class);
        try (var connection = DATABASE.connect();
             ResultSet tables = connection.getMetaData().getTables(null, "public", "%", new String[] {"TABLE"})) {
            var names = new ArrayList<String>();
            while (tables.next()) {
                names.add(tables.getString("TABLE_NAME"));
            }
            assertThat(names).contains("domainevententry", "snapshotevententry", "tokenentry", "flyway_schema_history");
        }
    }

    @Test
    void aRecordEventIsStoredInPostgresAndReadBackIntact() throws Exception {
        var payload = new ProbeHappened("acme", 1_234_567, Instant.parse("2026-11-03T10:15:30Z"));

        eventStore.publish(GenericEventMessage.asEventMessage(payload));

        var payloads = new ArrayList<Object>();
        try (var stream = eventStore.openStream(null)) {
            while (stream.hasNextAvailable(2, TimeUnit.SECONDS)) {
                payloads.add(stream.nextAvailable().getPayload());
            }
        }
        assertThat(payloads).contains(payload);
        try (var connection = DATABASE.connect(); var statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT payload FROM domainevententry")) {
            assertThat(rows.next()).isTrue();
            assertThat(new String(rows.getBytes(1), java.nio.charset.StandardCharsets.UTF_8)).contains("\"amountMicros\":1234567");
        }
    }

    @Test
    void healthIsUpAndUnknownPathsAnswerWithProblemDetails() throws Exception {
        HttpClient http = HttpClient.newHttpClient();

        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/v1/nothing-here")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
        assertThat(missing.body()).contains("\"status\":404");
    }
}
