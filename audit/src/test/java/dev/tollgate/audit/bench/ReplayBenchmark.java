package dev.tollgate.audit.bench;

import dev.tollgate.audit.AuditCli;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test; bench/audit-replay.sh): N usage events for 100 tenants loaded into the
 * in-JVM broker, then timed: the replay from Kafka, the export, and the replay from the export.
 */
public final class ReplayBenchmark {
    private ReplayBenchmark() {}

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int tenants = 100;
        try (var kafka = EmbeddedKafka.startEphemeral(); var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1), new StringSerializer(),
                new ByteArraySerializer())) {
            // Wait until every partition has a leader: the broker just started.
            for (String topic : List.of(Topics.LEDGER_EVENTS.name(), Topics.USAGE.name())) {
                while (producer.partitionsFor(topic).stream().anyMatch(p -> p.leader() == null)) {
                    Thread.sleep(100);
                }
            }
            Instant aug = Instant.parse("2026-08-01T00:00:00Z");
            var list = new PriceListPublished("pl", "pro", "USD", aug, false, List.of(new ModelPrice("m", 1_000_000, 500_000, 2_000_000)));
            producer.send(new ProducerRecord<>(Topics.LEDGER_EVENTS.name(), "_platform",
                    EventCodec.encode(CloudEvent.of(EventType.LEDGER_PRICELIST_PUBLISHED, "/ledger", aug, null, null, list))));
            for (int t = 0; t < tenants; t++) {
                String tenant = "t" + t;
                producer.send(new ProducerRecord<>(Topics.LEDGER_EVENTS.name(), tenant, EventCodec.encode(CloudEvent.of(
                        EventType.LEDGER_TENANT_CREATED, "/ledger", aug, null, null, new TenantCreated(tenant, tenant, "UTC", "USD")))));
                producer.send(new ProducerRecord<>(Topics.LEDGER_EVENTS.name(), tenant, EventCodec.encode(CloudEvent.of(
                        EventType.LEDGER_PLAN_ASSIGNED, "/ledger", aug, null, null, new PlanAssigned(tenant, "pro", aug)))));
            }
            Instant start = Instant.parse("2026-11-01T00:00:00Z");
            long loadStarted = System.nanoTime();
            for (int i = 0; i < events; i++) {
                String tenant = "t" + (i % tenants);
                Instant time = start.plusMillis(i * 2L);
                CloudEvent<?> event = i % 4 == 3
                        ? CloudEvent.withId("e" + i, EventType.USAGE_REQUEST_COMPLETED, "/gw", time, null, null, new RequestFinished("r" + i, tenant,
                        "k", "m", Endpoint.CHAT_COMPLETIONS, "p/e", new TokenUsage(500, 100, 80), 64, 100, 5L, null, null, null))
                        : CloudEvent.withId("e" + i, EventType.USAGE_TOKENS_STREAMED, "/gw", time, null, null,
                        new TokensStreamed("r" + i, tenant, "k", "m", 1, 21));
                producer.send(new ProducerRecord<>(Topics.USAGE.name(), tenant, EventCodec.encode(event)));
            }
            producer.flush();
            System.out.printf("loaded %,d usage events (%d tenants) in %.1f s%n", events, tenants, (System.nanoTime() - loadStarted) / 1e9);

            Path file = Files.createTempFile("replay-bench", ".jsonl.gz");
            time("replay from Kafka", events, "replay", "--period", "2026-11", "--bootstrap-servers", kafka.bootstrapServers());
            time("export to a file", events, "export", "--period", "2026-11", "--out", file.toString(), "--bootstrap-servers",
                    kafka.bootstrapServers());
            System.out.printf("export size: %,d bytes (%.0f bytes per event)%n", Files.size(file), (double) Files.size(file) / events);
            time("replay from the file", events, "replay", "--period", "2026-11", "--from-file", file.toString());
            Files.delete(file);
        }
        System.exit(0);
    }

    private static void time(String what, int events, String... args) {
        PrintStream original = System.out;
        var sink = new ByteArrayOutputStream();
        System.setOut(new PrintStream(sink));
        long started = System.nanoTime();
        int code;
        try {
            code = AuditCli.run(args);
        } finally {
            System.setOut(original);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("%-22s %,d events in %.1f s = %,.0f events/s (exit %d)%n", what, events, seconds, events / seconds, code);
    }
}
