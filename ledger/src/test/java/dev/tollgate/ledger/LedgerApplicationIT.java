package dev.tollgate.ledger;

import dev.tollgate.ledger.support.LedgerTestSupport;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ledger boots on a fresh PostgreSQL database: Flyway creates Axon's tables, Axon stores events
 * through its JDBC engine (bytea payloads) with the Jackson serializer, which handles records.
 */
class LedgerApplicationIT extends LedgerTestSupport {

    /** A record payload, the shape every ledger event has. */
    record ProbeHappened(String tenantId, long amountMicros, Instant at) {}

    @Autowired
    EventStore eventStore;
    @Autowired
    ApplicationContext context;

    @Test
    void axonUsesTheJdbcEngineOnTheFlywaySchema() throws Exception {
        assertThat(context.getBean(EventStorageEngine.class)).isInstanceOf(JdbcEventStorageEngine.class);
        try (var connection = database().connect();
             ResultSet tables = connection.getMetaData().getTables(null, "public", "%", new String[] {"TABLE"})) {
            var names = new ArrayList<String>();
            while (tables.next()) {
                names.add(tables.getString("TABLE_NAME"));
            }
            assertThat(names).contains("domainevententry", "snapshotevententry", "tokenentry", "flyway_schema_history",
                    "unique_claim", "tenant_view", "api_key_view", "idempotency_record");
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
        try (var connection = database().connect(); var statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT payload FROM domainevententry WHERE payloadtype LIKE '%ProbeHappened'")) {
            assertThat(rows.next()).isTrue();
            assertThat(new String(rows.getBytes(1), StandardCharsets.UTF_8)).contains("\"amountMicros\":1234567");
        }
    }

    @Test
    void healthIsPublicAndUnknownPathsAnswerWithProblemDetails() {
        HttpResponse<String> health = call("GET", "/health", null, null);
        HttpResponse<String> missing = call("GET", "/admin/v1/nothing-here", platformAdmin(), null);
        HttpResponse<String> anonymous = call("GET", "/admin/v1/tenants", null, null);

        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    }

    /** Log levels change at run time, by platform admins only; every answer carries a request id. */
    @Test
    void platformAdminsChangeLogLevelsAtRunTimeOthersCannot() {
        String logger = "/loggers/dev.tollgate.ledger";
        String debug = "{\"configuredLevel\":\"DEBUG\"}";
        assertThat(call("POST", logger, null, debug).statusCode()).isEqualTo(401);
        assertThat(call("POST", logger, token("acme-admin", List.of("tenant-admin"), "acme"), debug).statusCode()).isEqualTo(403);
        assertThat(call("POST", logger, token("auditor", List.of("auditor"), null), debug).statusCode()).isEqualTo(403);
        assertThat(call("GET", logger, token("acme-admin", List.of("tenant-admin"), "acme"), null).statusCode()).isEqualTo(403);
        try {
            assertThat(call("POST", logger, platformAdmin(), debug).statusCode()).isEqualTo(204);
            assertThat(LoggerFactory.getLogger("dev.tollgate.ledger").isDebugEnabled()).isTrue();
            assertThat(call("GET", logger, platformAdmin(), null).body()).contains("\"configuredLevel\":\"DEBUG\"");
        } finally {
            call("POST", logger, platformAdmin(), "{\"configuredLevel\":null}");
        }
        assertThat(LoggerFactory.getLogger("dev.tollgate.ledger").isDebugEnabled()).isFalse();

        // Security headers on every answer of the API (Spring Security's defaults, kept by BearerSecurity).
        HttpResponse<String> tenants = call("GET", "/admin/v1/tenants", platformAdmin(), null);
        assertThat(tenants.headers().firstValue("x-content-type-options")).hasValue("nosniff");
        assertThat(tenants.headers().firstValue("x-frame-options")).hasValue("DENY");
        assertThat(tenants.headers().firstValue("cache-control")).hasValueSatisfying(v -> assertThat(v).contains("no-store"));
        // (/metrics is checked where Prometheus export is on, in DevStackIT: Spring Boot tests switch exporters off.)
        // Every answer names its request for the logs; a sane caller-chosen id is kept.
        assertThat(call("GET", "/health", null, null, Map.of("x-request-id", "abc-123")).headers().firstValue("x-request-id"))
                .hasValue("abc-123");
        assertThat(call("GET", "/health", null, null, Map.of("x-request-id", "x".repeat(300))).headers().firstValue("x-request-id"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("req_"));
    }

    @Test
    void theOpenApiDocumentDescribesTheAdminApi() {
        HttpResponse<String> openapi = call("GET", "/admin/v1/openapi.json", null, null);

        assertThat(openapi.statusCode()).isEqualTo(200);
        assertThat(openapi.body()).contains("\"openapi\"").contains("/admin/v1/tenants/{tenantId}/keys")
                .contains("/admin/v1/keys/{keyId}:rotate").contains("/admin/v1/price-lists");
    }
}
