package dev.tollgate.projector.alert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.ConsumerLoops;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.deadletter.DeadLetters;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.quota.QuotaThresholdCrossed;
import dev.tollgate.projector.config.ProjectorLifecycle;
import dev.tollgate.projector.stream.ProjectorTopology;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.WebhookSecrets;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Delivers budget alerts ({@code quota.alerts.v1}) to the webhook a tenant-admin registered
 * (ADR 0009). A consumer writes each alert to the delivery log ({@code webhook_deliveries}, keyed by
 * the alert's id, so a re-read alert is never sent twice) with the tenant's URL and secret version
 * at that moment; a scheduler claims due rows ({@code for update skip locked}, so several instances
 * share the work), POSTs the CloudEvent and records the outcome, retrying with exponential backoff.
 * Each request is signed: {@code X-Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "t.body">} with the tenant's derived secret ({@code WebhookSecrets}); receivers reject old
 * timestamps (replay). Targets resolving to internal addresses are refused (SSRF) unless allowed.
 */
@Component
public class AlertWebhooks implements SmartLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(AlertWebhooks.class);
    public static final String SIGNATURE_HEADER = "X-Tollgate-Signature";
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(10);
    /** The {@link dev.tollgate.schemas.topic.DeadLetterHeaders#CONSUMER} of the records it refuses. */
    public static final String CONSUMER = "alert-webhooks";
    /** The type of the event {@link #sendTest} sends. */
    public static final String TEST_EVENT_TYPE = "dev.tollgate.webhook.test.v1";

    private final BillingProperties properties;
    private final ProjectorLifecycle projector;
    private final JdbcTemplate jdbc;
    private final DeadLetters deadLetters;
    private final WebhookSender sender;
    private final ConsumerLoops loops;
    private volatile ConsumerLoops.Loop loop;
    private volatile boolean running;

    public AlertWebhooks(BillingProperties properties, ProjectorLifecycle projector, JdbcTemplate jdbc, DeadLetters deadLetters,
                         ConsumerLoops loops) {
        this.loops = loops;
        this.deadLetters = deadLetters;
        this.properties = properties;
        this.projector = projector;
        this.jdbc = jdbc;
        this.sender = new WebhookSender(properties.webhooks().allowPrivateTargets());
    }

    @Override
    public void start() {
        running = true;
        if (!properties.webhooks().enabled() || !properties.projector().enabled()) {
            LOG.warn("budget alert webhooks are off on this instance (they need tollgate.webhooks.master-key and the projector)");
            return;
        }
        loop = loops.start("alert webhooks", () -> new KafkaConsumer<>(Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                        ConsumerConfig.GROUP_ID_CONFIG, properties.projector().applicationId() + "-alert-webhooks",
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer()),
                List.of(Topics.QUOTA_ALERTS.name()), this::record, () -> {});
    }

    /** Writes a batch of alerts to the delivery log; false while the projector's tenant store is not queryable yet. */
    private boolean record(ConsumerRecords<String, byte[]> records) {
        ReadOnlyKeyValueStore<String, byte[]> tenants = tenants();
        if (tenants == null) { // the projector is restoring: read these again shortly
            return false;
        }
        var rows = new ArrayList<Object[]>();
        for (ConsumerRecord<String, byte[]> record : records) {
            CloudEvent<EventData> alert;
            try {
                alert = EventCodec.decode(record.value());
                if (!(alert.data() instanceof QuotaThresholdCrossed)) {
                    throw new EventFormatException("not a quota.threshold.crossed event: " + alert.type(), null);
                }
            } catch (RuntimeException e) {
                deadLetters.send(record, CONSUMER, e.getMessage());
                continue;
            }
            byte[] json = tenants.get(alert.tenantid());
            TenantState tenant = json == null ? null : EventCodec.decodeState(json, TenantState.class);
            String url = tenant == null ? null : tenant.webhookUrl();
            rows.add(new Object[]{alert.id(), alert.tenantid(), url, tenant == null ? null : tenant.webhookSecretVersion(),
                    new String(record.value(), StandardCharsets.UTF_8), url == null ? "SKIPPED" : "PENDING",
                    url == null ? "no webhook configured" : null});
        }
        jdbc.batchUpdate("insert into webhook_deliveries (alert_id, tenant_id, url, secret_version, payload, status, last_error) "
                + "values (?, ?, ?, ?, ?, ?, ?) on conflict (alert_id) do nothing", rows);
        return true;
    }

    /**
     * Adds one more event for {@code tenant}'s webhook to the delivery log (sent, signed and retried like an alert), once per
     * {@code eventId}; skipped when the tenant has no webhook.
     */
    public void enqueue(TenantState tenant, String eventId, String payload) {
        String url = tenant.webhookUrl();
        jdbc.update("insert into webhook_deliveries (alert_id, tenant_id, url, secret_version, payload, status, last_error) "
                        + "values (?, ?, ?, ?, ?, ?, ?) on conflict (alert_id) do nothing", eventId, tenant.tenantId(), url,
                tenant.webhookSecretVersion(), payload, url == null ? "SKIPPED" : "PENDING", url == null ? "no webhook configured" : null);
    }

    private ReadOnlyKeyValueStore<String, byte[]> tenants() {
        KafkaStreams streams = projector.streams();
        if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
            return null;
        }
        return streams.store(StoreQueryParameters.fromNameAndType(ProjectorTopology.TENANTS_STORE, QueryableStoreTypes.keyValueStore()));
    }

    /** A claimed delivery. */
    private record Due(String alertId, String tenantId, String url, int secretVersion, String payload, int attempts) {}

    /** Claims due deliveries and sends them. */
    @Scheduled(fixedDelay = 250)
    public void deliverDue() {
        if (!running || !properties.webhooks().enabled()) {
            return;
        }
        List<Due> due = jdbc.query("""
                update webhook_deliveries set next_attempt_at = now() + interval '2 minutes', attempts = attempts + 1
                where alert_id in (select alert_id from webhook_deliveries where status = 'PENDING' and next_attempt_at <= now()
                                   order by next_attempt_at limit 20 for update skip locked)
                returning alert_id, tenant_id, url, secret_version, payload, attempts""",
                (rs, n) -> new Due(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5), rs.getInt(6)));
        due.forEach(this::deliver);
    }

    private void deliver(Due due) {
        WebhookSender.Outcome outcome = postSigned(due.tenantId(), due.secretVersion(), due.url(), due.alertId(), due.payload());
        Integer status = outcome.status();
        if (status != null && status / 100 == 2) {
            jdbc.update("update webhook_deliveries set status = 'DELIVERED', last_status = ?, last_error = null, delivered_at = now() "
                    + "where alert_id = ?", status, due.alertId());
            return;
        }
        if (outcome.refused()) {
            jdbc.update("update webhook_deliveries set status = 'FAILED', last_error = ? where alert_id = ?", "refused: " + outcome.error(),
                    due.alertId());
            LOG.warn("alert {} for tenant {} not sent: {}", due.alertId(), due.tenantId(), outcome.error());
            return;
        }
        String error = status != null ? "answered " + status : outcome.error();
        boolean giveUp = due.attempts() >= properties.webhooks().maxAttempts();
        Duration backoff = properties.webhooks().initialBackoff().multipliedBy(1L << Math.min(20, due.attempts() - 1));
        backoff = backoff.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff;
        jdbc.update("update webhook_deliveries set status = ?, last_status = ?, last_error = ?, "
                        + "next_attempt_at = now() + (? * interval '1 millisecond') where alert_id = ?",
                giveUp ? "FAILED" : "PENDING", status, error, backoff.toMillis(), due.alertId());
    }

    /** The answer of a test delivery: delivered when the target answered 2xx. */
    public record TestDelivery(String eventId, boolean delivered, Integer status, String error) {}

    /**
     * Sends a signed {@code dev.tollgate.webhook.test.v1} CloudEvent to the tenant's webhook now, once, and says what
     * came of it (no retry, not in the delivery log): the way a tenant checks its receiver and its signature check.
     * Empty when the tenant or its webhook is unknown here.
     */
    public Optional<TestDelivery> sendTest(String tenantId) {
        ReadOnlyKeyValueStore<String, byte[]> tenants = tenants();
        if (tenants == null || !properties.webhooks().enabled()) {
            throw new BillingException.Unavailable("webhooks_unavailable", "webhooks cannot be sent from this instance right now; retry");
        }
        byte[] json = tenants.get(tenantId);
        TenantState tenant = json == null ? null : EventCodec.decodeState(json, TenantState.class);
        if (tenant == null || tenant.webhookUrl() == null || tenant.webhookSecretVersion() == null) {
            return Optional.empty();
        }
        String eventId = UUID.randomUUID().toString();
        ObjectNode event = EventCodec.mapper().createObjectNode().put("specversion", "1.0").put("id", eventId)
                .put("source", "tollgate/billing").put("type", TEST_EVENT_TYPE).put("time", Instant.now().toString())
                .put("subject", tenantId).put("datacontenttype", "application/json").put("tenantid", tenantId);
        event.putObject("data").put("message", "A test event from Tollgate: your webhook receives and can verify alerts.");
        String payload = event.toString();
        WebhookSender.Outcome outcome = postSigned(tenantId, tenant.webhookSecretVersion(), tenant.webhookUrl(), eventId, payload);
        boolean delivered = outcome.status() != null && outcome.status() / 100 == 2;
        return Optional.of(new TestDelivery(eventId, delivered, outcome.status(),
                outcome.refused() ? "refused: " + outcome.error() : outcome.error()));
    }

    /** POSTs {@code payload} signed now with the tenant's derived secret of {@code secretVersion}. */
    private WebhookSender.Outcome postSigned(String tenantId, int secretVersion, String url, String eventId, String payload) {
        long timestamp = Instant.now().getEpochSecond();
        String secret = WebhookSecrets.derive(properties.webhooks().masterKey().getBytes(StandardCharsets.UTF_8), tenantId, secretVersion);
        return sender.post(url, Map.of("X-Tollgate-Event-Id", eventId, SIGNATURE_HEADER, "t=" + timestamp + ",v1=" + sign(secret, timestamp, payload)),
                payload);
    }

    /** Hex HMAC-SHA256 of {@code "<timestamp>.<body>"} with the tenant's secret. */
    public static String sign(String secret, long timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        running = false;
        if (loop != null) {
            loop.stop();
        }
        try {
            sender.close();
        } catch (IOException e) {
            LOG.debug("closing the webhook sender", e);
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
