package dev.tollgate.projector;

import dev.tollgate.projector.alert.AlertWebhooks;
import dev.tollgate.projector.deadletter.StateTopicChecker;
import dev.tollgate.projector.invoice.InvoiceWriter;
import dev.tollgate.projector.stream.ParseOrDeadLetter;
import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.DeadLetterHeaders;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.tollgate.projector.support.UsageEvents.completed;
import static dev.tollgate.projector.support.UsageEvents.json;
import static dev.tollgate.projector.support.UsageEvents.priceList;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Malformed records on every topic this service reads (eleven, on six topics): each one lands in deadletter.v1 exactly
 * once (key and value unchanged, with why, where from and who refused it), the pipeline keeps
 * billing, and a broken ledger state record never changes how a tenant is billed — the tenant keeps
 * its last good state (its billing zone, currency and plan), also after a restart that rebuilds the
 * global stores from the topics.
 */
class MalformedRecordsIT {
    private static final String MASTER_KEY = "malformed-records-it-master-key-of-32-bytes";
    private static final Instant TENANT_SINCE = Instant.parse("2026-01-01T00:00:00Z");
    /** 20:00 UTC on 31 October is 1 November in Tokyo: the invoice period shows which zone billed it. */
    private static final Instant EVENING = Instant.parse("2026-10-31T20:00:00Z");

    @TempDir
    Path temp;

    @Test
    void everyMalformedRecordIsDeadLetteredOnceAndBillingKeepsTheLastGoodState() throws Exception {
        try (var kafka = EmbeddedKafka.startEphemeral(); var database = PostgresDatabase.create("malformed_records_it");
             var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                     new StringSerializer(), new ByteArraySerializer())) {
            String bootstrap = kafka.bootstrapServers();
            send(producer, Topics.TENANTS_STATE.name(), "acme", EventCodec.encodeState(tokyoTenant("acme")));
            send(producer, Topics.PRICELISTS_STATE.name(), "pl-1", json(priceList("pl-1", "pro", TENANT_SINCE, "m", 1_000_000, 0, 2_000_000)));

            // One bad record per way of being bad, on every topic the service reads; acme's last tenant record is a bad one.
            var bad = new ArrayList<ProducerRecord<String, byte[]>>();
            bad.add(record(Topics.TENANTS_STATE.name(), "acme", text("{\"tenantId\":\"acme\",\"version\":2}")));    // required fields missing
            bad.add(record(Topics.TENANTS_STATE.name(), "acme", EventCodec.encodeState(tokyoTenant("other"))));      // keyed as another tenant
            bad.add(record(Topics.TENANTS_STATE.name(), "acme", text(new String(EventCodec.encodeState(tokyoTenant("acme")),
                    StandardCharsets.UTF_8).replace("Asia/Tokyo", "Mars/Olympus_Mons"))));                         // no such zone
            bad.add(record(Topics.TENANTS_STATE.name(), "acme", new byte[]{(byte) 0xc3, 0x28, '{'}));                // not UTF-8, not JSON
            bad.add(record(Topics.KEYS_STATE.name(), "k1", text("[]")));
            bad.add(record(Topics.PRICELISTS_STATE.name(), "pl-2", text("{\"priceListId\":\"pl-2\",\"planId\":\"pro\"}")));
            bad.add(record(Topics.QUOTA_STATE.name(), "acme|*|DAY", text("{\"window\":\"DAY\"}")));
            bad.add(record(Topics.USAGE.name(), "acme", text("{\"type\":\"usage.request.completed\"")));
            bad.add(record(Topics.USAGE_BILLED.name(), "acme", text("{\"type\":\"billed\",\"eventId\":\"x\"}")));
            bad.add(record(Topics.USAGE_BILLED.name(), "acme", text("{\"type\":\"billed\",\"eventId\":\"y\",\"tenantId\":\"acme\","
                    + "\"model\":\"m\",\"time\":\"2026-10-31T20:00:00Z\",\"uncachedPrompt\":-5,\"cachedPrompt\":0,\"completion\":1,"
                    + "\"period\":\"2026-11\"}")));                                                       // decodes, but the database would refuse it

            bad.add(record(Topics.QUOTA_ALERTS.name(), "acme", text("{\"type\":\"quota.threshold.crossed\",\"id\":\"a\"}")));
            for (var record : bad) {
                producer.send(record).get();
            }
            List<CloudEvent<?>> firstHalf = List.of(completed("e1", "acme", "k1", "m", EVENING, 1_000, 0, 500, 0),
                    completed("e2", "acme", "k1", "m", EVENING.plusSeconds(1), 3_000, 0, 1_000, 0));
            for (CloudEvent<?> event : firstHalf) {
                send(producer, Topics.USAGE.name(), "acme", EventCodec.encode(event));
            }

            try (var billing = instance(bootstrap, database, "state-1")) {
                await().atMost(Duration.ofMinutes(2)).until(() -> billed(database).size() == 2);
                await().atMost(Duration.ofMinutes(1)).until(() -> deadLetters(bootstrap).size() >= bad.size());
            }
            // A new instance on an empty state directory rebuilds the global stores from the topics, bad records included.
            send(producer, Topics.USAGE.name(), "acme", EventCodec.encode(completed("e3", "acme", "k1", "m", EVENING.plusSeconds(2),
                    2_000, 0, 2_000, 0)));
            try (var billing = instance(bootstrap, database, "state-2")) {
                await().atMost(Duration.ofMinutes(2)).until(() -> billed(database).size() == 3);
                Thread.sleep(3_000); // time for any second dead letter to show up
            }

            // Billed with the last good tenant state: Tokyo's period, USD, plan pro's price list.
            Map<String, String> rows = billed(database);
            assertThat(rows).containsOnlyKeys("e1", "e2", "e3")
                    .allSatisfy((id, row) -> assertThat(row).isEqualTo("2026-11|USD|pl-1"));

            // Every bad record exactly once in deadletter.v1, unchanged, with its origin and the consumer that refused it.
            List<ConsumerRecord<String, byte[]>> dead = deadLetters(bootstrap);
            Map<String, String> byOrigin = new TreeMap<>();
            for (ConsumerRecord<String, byte[]> record : dead) {
                String origin = header(record, DeadLetterHeaders.ORIGIN);
                assertThat(byOrigin.put(origin, header(record, DeadLetterHeaders.CONSUMER))).as("second dead letter for " + origin).isNull();
                assertThat(header(record, DeadLetterHeaders.ERROR)).isNotBlank();
            }
            assertThat(dead).hasSize(bad.size());
            for (var record : bad) {
                assertThat(dead).as(record.topic()).anySatisfy(d -> {
                    assertThat(header(d, DeadLetterHeaders.ORIGIN)).startsWith(record.topic() + "/");
                    assertThat(d.key()).isEqualTo(record.key());
                    assertThat(d.value()).isEqualTo(record.value());
                });
            }
            assertThat(byOrigin.values()).containsOnly(StateTopicChecker.CONSUMER, InvoiceWriter.CONSUMER, AlertWebhooks.CONSUMER,
                    ParseOrDeadLetter.CONSUMER);
            System.out.printf("dead letters by origin and consumer: %s%n", byOrigin);
        }
    }

    private BillingInstance instance(String bootstrap, PostgresDatabase database, String stateDir) {
        return BillingInstance.builder(bootstrap, database, "malformed-it", temp.resolve(stateDir))
                .set("tollgate.webhooks.master-key", MASTER_KEY).start();
    }

    private static TenantState tokyoTenant(String id) {
        return new TenantState(id, id, TenantState.Status.ACTIVE, "pro", "Asia/Tokyo", "USD", Limits.NONE, null, null, 1, TENANT_SINCE);
    }

    private static byte[] text(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    private static ProducerRecord<String, byte[]> record(String topic, String key, byte[] value) {
        return new ProducerRecord<>(topic, key, value);
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) throws Exception {
        producer.send(record(topic, key, value)).get();
    }

    private static List<ConsumerRecord<String, byte[]>> deadLetters(String bootstrap) {
        return TopicReader.readAll(bootstrap, Topics.DEAD_LETTER.name());
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** event id -> "period|currency|price list" of every billed row. */
    private static Map<String, String> billed(PostgresDatabase database) throws Exception {
        var rows = new TreeMap<String, String>();
        try (var connection = database.connect(); var statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("select event_id, invoice_period, currency, price_list_id from billed_usage")) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
            }
        }
        return rows;
    }
}
