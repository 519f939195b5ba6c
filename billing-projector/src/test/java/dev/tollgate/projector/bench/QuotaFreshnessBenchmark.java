package dev.tollgate.projector.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.projector.support.UsageEvents;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Benchmark (not a test; bench/quota-freshness.sh), issue #24: how long after a usage event is produced the quota state
 * that counts it can be read from {@code quota.state.v1}, as a gateway's state reader reads it (the same consumer settings
 * as {@code StateDirectory}). Usage events are produced at a fixed rate, each stamped with the wall-clock millisecond it
 * was sent; for every tenant-level DAY state read, every event of that tenant up to the state's {@code asOf} that no earlier
 * state counted is seen now: its freshness is now minus its send time. Prints p50/p90/p99/p99.9/max over the events sent
 * after a warm-up, and this JVM's CPU (broker, projector, invoice writer, the load itself).
 *
 * <p>The producer lingers 5 ms like the gateway's {@code UsageEmitter} and the reader polls as its state reader does; what
 * it leaves out is the gateway's spool, which an event passes before that producer.
 */
public final class QuotaFreshnessBenchmark {
    private QuotaFreshnessBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int tenants = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Duration emitInterval = Duration.parse(args.length > 3 ? args[3] : "PT0.5S"); // billing.yml's default
        int warmUpSeconds = args.length > 4 ? Integer.parseInt(args[4]) : 30; // C2 settles in about 30 s at 3,000/s
        try (var kafka = EmbeddedKafka.startEphemeral(); var database = PostgresDatabase.create("quota_freshness_bench");
             var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     ProducerConfig.LINGER_MS_CONFIG, 5), new StringSerializer(), new ByteArraySerializer())) {
            for (int t = 0; t < tenants; t++) {
                sendSurely(producer, new ProducerRecord<>(Topics.TENANTS_STATE.name(), "t" + t, UsageEvents.tenant("t" + t, "pro", "UTC")));
            }
            var list = UsageEvents.priceList("pl", "pro", Instant.parse("2026-01-01T00:00:00Z"), "m", 1_000_000, 500_000, 2_000_000);
            sendSurely(producer, new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), "pl", UsageEvents.json(list)));
            var failedSends = new AtomicLong();

            var sent = new ConcurrentHashMap<String, ArrayDeque<long[]>>(); // tenant -> {send millis, measured 0/1}, oldest first
            long[] freshness = new long[rate * (seconds + 1)];
            long[] sentAt = new long[freshness.length];
            int[] measured = {0};
            var reading = new AtomicBoolean(true);
            var reader = readStates(kafka.bootstrapServers(), sent, freshness, sentAt, measured, reading);
            try (var billing = BillingInstance.builder(kafka.bootstrapServers(), database, "quota-freshness-bench",
                    Files.createTempDirectory("quota-freshness-bench")).set("tollgate.projector.quota-emit-interval", emitInterval).start()) {
                long started = System.nanoTime();
                double cpuAtStart = 0;
                long produced = 0;
                long total = (long) rate * (warmUpSeconds + seconds);
                for (long i = 0; i < total; i++) {
                    long due = started + i * 1_000_000_000L / rate;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    if (i == (long) rate * warmUpSeconds) {
                        cpuAtStart = jvmCpuSeconds();
                    }
                    String tenant = "t" + (i % tenants);
                    long now = System.currentTimeMillis();
                    boolean measure = i >= (long) rate * warmUpSeconds;
                    var queue = sent.computeIfAbsent(tenant, t -> new ArrayDeque<>());
                    synchronized (queue) {
                        queue.add(new long[] {now, measure ? 1 : 0});
                    }
                    var event = UsageEvents.completed("f" + i, tenant, "k" + (i % 7), "m", Instant.ofEpochMilli(now), 500, 100, 64, 64);
                    producer.send(new ProducerRecord<>(Topics.USAGE.name(), tenant, EventCodec.encode(event)), (metadata, error) -> {
                        if (error != null) {
                            failedSends.incrementAndGet(); // never counted by a state: shows as events not seen
                        }
                    });
                    produced += measure ? 1 : 0;
                }
                double loadSeconds = (System.nanoTime() - started) / 1e9 - warmUpSeconds;
                double cpu = jvmCpuSeconds() - cpuAtStart;
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (measuredCount(measured) < produced - failedSends.get() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                reading.set(false);
                reader.join();
                int n = measuredCount(measured);
                long[] sorted = Arrays.copyOf(freshness, n);
                Arrays.sort(sorted);
                System.out.printf("quota freshness at %,d events/s for %d s (%d tenants, emit interval %d ms, after %d s of warm-up): "
                                + "%,d of %,d events seen in a state (%d sends failed); p50 %d ms, p90 %d ms, p99 %d ms, p99.9 %d ms, max %d ms; "
                                + "JVM (broker, projector, writer, load) %.2f cores%n", rate, seconds, tenants, emitInterval.toMillis(),
                        warmUpSeconds, n, produced, failedSends.get(), at(sorted, 0.50), at(sorted, 0.90), at(sorted, 0.99), at(sorted, 0.999),
                        n == 0 ? -1 : sorted[n - 1], cpu / loadSeconds);
                System.out.println("quota freshness, the slowest event sent in each 5 s: " + slowestPer5s(freshness, sentAt, n) + " ms");
            }
        }
        System.exit(0);
    }

    /** A set-up record, sent again until the broker has it (a fresh broker can refuse the first sends while it settles). */
    private static void sendSurely(KafkaProducer<String, byte[]> producer, ProducerRecord<String, byte[]> record) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.send(record).get();
                return;
            } catch (ExecutionException e) {
                if (attempt == 10) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static int measuredCount(int[] measured) {
        synchronized (measured) {
            return measured[0];
        }
    }

    /** Reads every new quota state as a gateway does and records the freshness of each event it counts first. */
    private static Thread readStates(String bootstrap, Map<String, ArrayDeque<long[]>> sent, long[] freshness, long[] sentAt,
                                     int[] measured, AtomicBoolean reading) {
        var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000),
                new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = IntStream.range(0, Topics.QUOTA_STATE.partitions())
                .mapToObj(p -> new TopicPartition(Topics.QUOTA_STATE.name(), p)).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        var thread = new Thread(() -> {
            try (consumer) {
                while (reading.get()) {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                        long now = System.currentTimeMillis();
                        if (record.value() == null) {
                            continue;
                        }
                        QuotaState state = EventCodec.decodeState(record.value(), QuotaState.class);
                        if (state.keyId() != null || state.window() != QuotaState.Window.DAY || state.asOf() == null) {
                            continue;
                        }
                        var queue = sent.get(state.tenantId());
                        if (queue == null) {
                            continue;
                        }
                        long asOf = state.asOf().toEpochMilli();
                        synchronized (queue) {
                            while (!queue.isEmpty() && queue.peekFirst()[0] <= asOf) {
                                long[] event = queue.pollFirst();
                                if (event[1] == 1) {
                                    synchronized (measured) {
                                        if (measured[0] < freshness.length) {
                                            freshness[measured[0]] = now - event[0];
                                            sentAt[measured[0]++] = event[0];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }, "quota-state-reader");
        thread.start();
        return thread;
    }

    /** The worst freshness of the events sent in each 5 s of the measured load, in order: a backlog grows, a stall is a peak. */
    private static String slowestPer5s(long[] freshness, long[] sentAt, int n) {
        long first = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            first = Math.min(first, sentAt[i]);
        }
        var slowest = new TreeMap<Long, Long>();
        for (int i = 0; i < n; i++) {
            slowest.merge((sentAt[i] - first) / 5_000, freshness[i], Math::max);
        }
        return slowest.values().stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    private static long at(long[] sorted, double quantile) {
        return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
    }

    private static double jvmCpuSeconds() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }
}
