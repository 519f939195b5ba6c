package dev.tollgate.projector.bench;

import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.projector.support.UsageEvents;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Files;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Benchmark (not a test; bench/projector-throughput.sh): N usage events pre-loaded into usage.v1 on
 * the in-JVM broker, then the whole billing service started (projector with exactly-once v2 and the
 * invoice writer into the local PostgreSQL). Prints events/s until the projector has committed past
 * the last event, and until PostgreSQL holds every billed event.
 */
public final class ProjectorThroughputBenchmark {
    private ProjectorThroughputBenchmark() {}

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int tenants = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        try (var kafka = EmbeddedKafka.startEphemeral(); var database = PostgresDatabase.create("projector_bench")) {
            long loadStart = System.nanoTime();
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    ProducerConfig.LINGER_MS_CONFIG, 10, ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024), new StringSerializer(),
                    new ByteArraySerializer())) {
                for (int t = 0; t < tenants; t++) {
                    producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), "t" + t, UsageEvents.tenant("t" + t, "pro", "UTC")));
                }
                var list = UsageEvents.priceList("pl", "pro", Instant.parse("2026-01-01T00:00:00Z"), "m", 1_000_000, 500_000, 2_000_000);
                producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), "pl", UsageEvents.json(list)));
                var random = new Random(1);
                Instant start = Instant.parse("2026-11-01T00:00:00Z");
                for (int i = 0; i < events; i++) {
                    String tenant = "t" + (i % tenants);
                    Instant time = start.plusMillis(i * 20L);
                    var event = i % 4 == 3
                            ? UsageEvents.completed("e" + i, tenant, "k" + (i % 7), "m", time, 500, 100, 64 + random.nextInt(64), 64)
                            : UsageEvents.streamed("e" + i, tenant, "k" + (i % 7), "m", time, 1 + random.nextInt(64));
                    producer.send(new ProducerRecord<>(Topics.USAGE.name(), tenant, EventCodec.encode(event)));
                }
            }
            System.out.printf("loaded %,d events for %d tenants into usage.v1 in %.1f s%n", events, tenants, (System.nanoTime() - loadStart) / 1e9);

            long started = System.nanoTime();
            try (var billing = BillingInstance.builder(kafka.bootstrapServers(), database, "projector-bench",
                    Files.createTempDirectory("projector-bench")).start(); Admin admin = kafka.admin()) {
                double projected = 0;
                double written = 0;
                while (projected == 0 || written == 0) {
                    Thread.sleep(200);
                    double elapsed = (System.nanoTime() - started) / 1e9;
                    if (projected == 0 && lag(admin, "projector-bench") == 0) {
                        projected = elapsed;
                    }
                    if (written == 0 && billedRows(database) >= events) {
                        written = elapsed;
                    }
                    if ((long) (elapsed * 5) % 25 == 0) {
                        System.out.printf("progress %.0f s: projector lag %d, rows in PostgreSQL %d%n", elapsed, lag(admin, "projector-bench"),
                                billedRows(database));
                    }
                    if (elapsed > 1800) {
                        throw new IllegalStateException("no result after 30 minutes");
                    }
                }
                System.out.printf("projector (exactly-once v2, dedup, pricing, windows, quota): %,d events in %.1f s = %,.0f events/s "
                        + "(includes start-up and global store load)%n", events, projected, events / projected);
                System.out.printf("end to end into PostgreSQL (invoice writer, keyed inserts): %,d events in %.1f s = %,.0f events/s%n",
                        events, written, events / written);
            }
        }
        System.exit(0);
    }

    /** Events of usage.v1 the projector has not committed yet (a partition it never committed counts from 0). */
    private static long lag(Admin admin, String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        var latest = new HashMap<TopicPartition, OffsetSpec>();
        for (int p = 0; p < Topics.USAGE.partitions(); p++) {
            latest.put(new TopicPartition(Topics.USAGE.name(), p), OffsetSpec.latest());
        }
        long lag = 0;
        for (var entry : admin.listOffsets(latest).all().get().entrySet()) {
            OffsetAndMetadata done = committed.get(entry.getKey());
            lag += entry.getValue().offset() - (done == null ? 0 : done.offset());
        }
        return lag;
    }

    private static long billedRows(PostgresDatabase database) throws Exception {
        try (var connection = database.connect(); var statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("select count(*) from billed_usage")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
