package dev.tollgate.projector.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.projector.support.UsageEvents;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.process.CpuTime;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

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
            var refused = new ConcurrentLinkedQueue<ProducerRecord<String, byte[]>>();
            int resent = 0;
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
                    var record = new ProducerRecord<>(Topics.USAGE.name(), tenant, EventCodec.encode(event));
                    producer.send(record, (metadata, error) -> {
                        if (error != null) {
                            refused.add(record);
                        }
                    });
                }
                producer.flush();
                // A send can fail while the fresh broker settles (a run lost one event so and then waited for it for
                // ever): what failed is sent again, one at a time, until it is in.
                for (ProducerRecord<String, byte[]> record = refused.poll(); record != null; record = refused.poll()) {
                    producer.send(record).get();
                    resent++;
                }
            }
            System.out.printf("loaded %,d events for %d tenants into usage.v1 in %.1f s (%d sent again)%n", events, tenants,
                    (System.nanoTime() - loadStart) / 1e9, resent);

            long started = System.nanoTime();
            try (var billing = BillingInstance.builder(kafka.bootstrapServers(), database, "projector-bench",
                    Files.createTempDirectory("projector-bench")).start(); Admin admin = kafka.admin()) {
                var samples = new ArrayList<Sample>();
                Sample last;
                do {
                    Thread.sleep(500);
                    last = new Sample((System.nanoTime() - started) / 1e9, events - lag(admin, "projector-bench"), billedRows(database),
                            jvmCpuSeconds(), CpuTime.ofProcessesNamed("postgres"));
                    samples.add(last);
                    if (samples.size() % 10 == 0) {
                        System.out.printf("progress %.0f s: projector committed %,d, rows in PostgreSQL %,d%n", last.seconds(),
                                last.committed(), last.rows());
                    }
                    if (last.seconds() > 1800) {
                        throw new IllegalStateException("no result after 30 minutes");
                    }
                } while (last.committed() < events || last.rows() < events);
                Sample projected = first(samples, s -> s.committed() >= events);
                Sample written = first(samples, s -> s.rows() >= events);
                System.out.printf("projector (exactly-once v2, dedup, pricing, windows, quota): %,d events in %.1f s = %,.0f events/s "
                        + "(includes start-up and global store load)%n", events, projected.seconds(), events / projected.seconds());
                System.out.printf("end to end into PostgreSQL (invoice writer, keyed inserts): %,d events in %.1f s = %,.0f events/s%n",
                        events, written.seconds(), events / written.seconds());
                steady("projector steady", samples, events, Sample::committed);
                steady("invoice writer steady", samples, events, Sample::rows);
            }
        }
        System.exit(0);
    }

    /** What the benchmark reads twice a second: progress and the CPU time of this JVM and of every PostgreSQL process. */
    private record Sample(double seconds, long committed, long rows, double jvmCpu, double postgresCpu) {}

    private static Sample first(List<Sample> samples, Predicate<Sample> condition) {
        return samples.stream().filter(condition).findFirst().orElseThrow();
    }

    /**
     * The rate between 10 % and 90 % of the events done (past start-up and the global stores' load, before
     * the tail), and the CPU per event in that window: this JVM (broker, projector and invoice writer:
     * the benchmark's own polling is a few queries a second) and PostgreSQL.
     */
    private static void steady(String what, List<Sample> samples, int events, ToLongFunction<Sample> done) {
        Sample from = first(samples, s -> done.applyAsLong(s) >= events / 10);
        Sample to = first(samples, s -> done.applyAsLong(s) >= events * 9L / 10);
        long count = done.applyAsLong(to) - done.applyAsLong(from);
        double seconds = to.seconds() - from.seconds();
        if (count <= 0 || seconds <= 0) {
            System.out.printf("%s: too few samples between 10 %% and 90 %% of the events (give more events)%n", what);
            return;
        }
        double jvm = to.jvmCpu() - from.jvmCpu();
        double postgres = to.postgresCpu() - from.postgresCpu();
        System.out.printf("%s: %,.0f events/s from %.1f s to %.1f s (10 %% to 90 %% of the events); CPU per event %.1f µs in this JVM "
                        + "(%.2f cores) + %.1f µs in PostgreSQL (%.2f cores)%n", what, count / seconds, from.seconds(), to.seconds(),
                jvm * 1e6 / count, jvm / seconds, postgres * 1e6 / count, postgres / seconds);
    }

    private static double jvmCpuSeconds() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
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
