package dev.tollgate.projector;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.tollgate.projector.alert.AlertWebhooks;
import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.WebhookSecrets;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.quota.QuotaThresholdCrossed;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tollgate.projector.support.UsageEvents.completed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Budget alerts reach the tenant's webhook: signed with the secret the ledger showed the tenant,
 * retried after a failure, logged, sent once per alert; a tenant without a webhook is logged as
 * skipped.
 */
class AlertWebhookIT {
    private static final String MASTER_KEY = "alert-webhook-it-master-key-of-32-bytes!!";

    /** One received delivery. */
    private record Received(String eventId, String signature, String body) {}

    @Test
    void crossingThresholdsPostsSignedAlertsRetriedUntilDelivered(@TempDir Path stateDir) throws Exception {
        var received = new CopyOnWriteArrayList<Received>();
        var calls = new AtomicInteger();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hooks/tollgate", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int status = calls.incrementAndGet() == 1 ? 500 : 204; // the first delivery fails
            if (status == 204) {
                received.add(new Received(exchange.getRequestHeaders().getFirst("X-Tollgate-Event-Id"),
                        exchange.getRequestHeaders().getFirst(AlertWebhooks.SIGNATURE_HEADER), body));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        String url = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hooks/tollgate";
        Instant now = Instant.now();
        try (var kafka = EmbeddedKafka.startEphemeral(); var database = PostgresDatabase.create("alert_webhook_it")) {
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                    new StringSerializer(), new ByteArraySerializer())) {
                var limits = new Limits(null, null, 1_000L, null, null, null);
                producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), "acme", EventCodec.encodeState(new TenantState("acme", "Acme",
                        TenantState.Status.ACTIVE, "pro", "UTC", "USD", limits, url, 3, 1, now)))).get();
                producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), "quiet", EventCodec.encodeState(new TenantState("quiet",
                        "Quiet", TenantState.Status.ACTIVE, "pro", "UTC", "USD", limits, null, null, 1, now)))).get();
                for (CloudEvent<?> event : List.of(completed("a1", "acme", "k", "m", now, 400, 0, 200, 0),     // 60 %
                        completed("a2", "acme", "k", "m", now.plusMillis(1), 200, 0, 50, 0),                   // 85 %
                        completed("q1", "quiet", "k", "m", now, 600, 0, 0, 0))) {                             // 60 %, no webhook
                    producer.send(new ProducerRecord<>(Topics.USAGE.name(), event.tenantid(), EventCodec.encode(event))).get();
                }
            }
            try (var billing = BillingInstance.builder(kafka.bootstrapServers(), database, "alert-webhook-it", stateDir)
                    .set("tollgate.webhooks.master-key", MASTER_KEY).set("tollgate.webhooks.allow-private-targets", true)
                    .set("tollgate.webhooks.initial-backoff", "PT0.2S").start()) {
                await().atMost(Duration.ofSeconds(60)).until(() -> received.size() == 2 && count(database, "status = 'SKIPPED'") == 1);
                Thread.sleep(1_000); // nothing more arrives: each alert is delivered once
                assertThat(received).hasSize(2);

                // A test event on demand: signed like the alerts, sent once, its outcome answered; not in the delivery log.
                String admin = BillingInstance.TOKENS.token("admin", List.of("platform-admin"), null);
                JsonNode test = EventCodec.mapper().readTree(billing.call("POST", "/billing/v1/tenants/acme/webhook:test", admin).body());
                assertThat(test.path("delivered").asBoolean()).as(test.toString()).isTrue();
                assertThat(test.path("status").asInt()).isEqualTo(204);
                assertThat(received).hasSize(3);
                Received probe = received.get(2);
                assertThat(probe.eventId()).isEqualTo(test.path("eventId").asText());
                JsonNode probeEvent = EventCodec.mapper().readTree(probe.body());
                assertThat(probeEvent.path("type").asText()).isEqualTo(AlertWebhooks.TEST_EVENT_TYPE);
                assertThat(probeEvent.path("tenantid").asText()).isEqualTo("acme");
                String[] parts = probe.signature().split(",");
                assertThat(parts[1]).isEqualTo("v1=" + AlertWebhooks.sign(WebhookSecrets.derive(MASTER_KEY.getBytes(StandardCharsets.UTF_8),
                        "acme", 3), Long.parseLong(parts[0].substring(2)), probe.body()));
                assertThat(billing.call("POST", "/billing/v1/tenants/quiet/webhook:test", admin).statusCode()).isEqualTo(404);
                assertThat(billing.call("POST", "/billing/v1/tenants/acme/webhook:test",
                        BillingInstance.TOKENS.token("t", List.of("tenant-admin"), "quiet")).statusCode()).isEqualTo(404);
                assertThat(billing.call("POST", "/billing/v1/tenants/acme/webhook:test",
                        BillingInstance.TOKENS.token("a", List.of("auditor"), null)).statusCode()).isEqualTo(403);
                assertThat(count(database, "true")).as("the test event is not in the delivery log").isEqualTo(3);
            }
            String secret = WebhookSecrets.derive(MASTER_KEY.getBytes(StandardCharsets.UTF_8), "acme", 3);
            var thresholds = new ArrayList<Integer>();
            received.removeIf(delivery -> delivery.body().contains(AlertWebhooks.TEST_EVENT_TYPE));
            for (Received delivery : received) {
                String[] parts = delivery.signature().split(",");
                long timestamp = Long.parseLong(parts[0].substring(2));
                assertThat(parts[1]).isEqualTo("v1=" + AlertWebhooks.sign(secret, timestamp, delivery.body()));
                assertThat(Math.abs(Instant.now().getEpochSecond() - timestamp)).isLessThan(120);
                CloudEvent<?> alert = EventCodec.decode(delivery.body().getBytes(StandardCharsets.UTF_8));
                assertThat(alert.id()).isEqualTo(delivery.eventId());
                thresholds.add(((QuotaThresholdCrossed) alert.data()).thresholdPercent());
            }
            assertThat(thresholds).containsExactlyInAnyOrder(50, 80);
            assertThat(calls.get()).isEqualTo(4); // one failure, retried; and the test event
            assertThat(count(database, "status = 'DELIVERED'")).isEqualTo(2);
            assertThat(count(database, "status = 'DELIVERED' and attempts = 2")).isEqualTo(1);
        } finally {
            receiver.stop(0);
        }
    }

    private static long count(PostgresDatabase database, String where) throws Exception {
        try (var connection = database.connect(); var statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("select count(*) from webhook_deliveries where " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
