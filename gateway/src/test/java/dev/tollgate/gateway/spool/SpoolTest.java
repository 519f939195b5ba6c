package dev.tollgate.gateway.spool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SpoolTest {
    private static final Spool.Options FAST = new Spool.Options(10_000, 1L << 20, 5);

    /** A sink that can be switched off, recording what it accepted. */
    static final class SwitchableSink implements Spool.Sink {
        final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean up = new AtomicBoolean(true);

        @Override
        public int send(List<Spool.Record> batch) {
            if (!up.get()) {
                throw new IllegalStateException("sink down");
            }
            batch.forEach(r -> accepted.add(new String(r.value(), StandardCharsets.UTF_8)));
            return batch.size();
        }
    }

    private static Spool.Record record(int i) {
        return new Spool.Record("tenant-" + (i % 3), ("event-" + i).getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> expected(int from, int to) {
        var list = new ArrayList<String>();
        for (int i = from; i < to; i++) {
            list.add("event-" + i);
        }
        return list;
    }

    @Test
    void recordsReachTheSinkInOrder(@TempDir Path dir) {
        var sink = new SwitchableSink();
        try (Spool spool = Spool.open(dir, FAST, sink)) {
            for (int i = 0; i < 1000; i++) {
                assertThat(spool.offer(record(i))).isTrue();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted.size() == 1000);
            assertThat(sink.accepted).isEqualTo(expected(0, 1000));
            assertThat(spool.pendingBytes()).isZero();
        }
    }

    @Test
    void anOutageLosesNothingAndDeliveryResumesInOrder(@TempDir Path dir) throws Exception {
        var sink = new SwitchableSink();
        try (Spool spool = Spool.open(dir, FAST, sink)) {
            sink.up.set(false);
            for (int i = 0; i < 300; i++) {
                spool.offer(record(i));
            }
            Thread.sleep(300);
            assertThat(sink.accepted).isEmpty();
            assertThat(spool.pendingBytes()).isPositive();

            sink.up.set(true);

            await().atMost(Duration.ofSeconds(15)).until(() -> sink.accepted.size() == 300);
            assertThat(sink.accepted).isEqualTo(expected(0, 300));
        }
    }

    /** Records with and without a trace context, from before and after a restart, keep key, value and context. */
    @Test
    void tracedAndUntracedRecordsKeepTheirKeyValueAndTraceContext(@TempDir Path dir) {
        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        var received = new CopyOnWriteArrayList<Spool.Record>();
        Spool.Sink collect = batch -> {
            received.addAll(batch);
            return batch.size();
        };
        var down = new SwitchableSink();
        down.up.set(false);
        try (Spool spool = Spool.open(dir, FAST, down)) {
            spool.offer(new Spool.Record("t-é", "untraced".getBytes(StandardCharsets.UTF_8)));
            spool.offer(new Spool.Record("t-2", "traced".getBytes(StandardCharsets.UTF_8), traceparent));
        }
        try (Spool spool = Spool.open(dir, FAST, collect)) {
            spool.offer(new Spool.Record("t-3", "after restart".getBytes(StandardCharsets.UTF_8), traceparent));
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
        }
        assertThat(received).extracting(Spool.Record::key).containsExactly("t-é", "t-2", "t-3");
        assertThat(received).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactly("untraced", "traced", "after restart");
        assertThat(received).extracting(Spool.Record::traceparent).containsExactly(null, traceparent, traceparent);
    }

    @Test
    void whatWasNotDeliveredBeforeARestartIsDeliveredAfterIt(@TempDir Path dir) {
        var down = new SwitchableSink();
        down.up.set(false);
        try (Spool spool = Spool.open(dir, FAST, down)) {
            for (int i = 0; i < 50; i++) {
                spool.offer(record(i));
            }
        }
        var sink = new SwitchableSink();
        try (Spool spool = Spool.open(dir, FAST, sink)) {
            spool.offer(record(50));
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted.size() == 51);
            assertThat(sink.accepted).isEqualTo(expected(0, 51));
        }
    }

    @Test
    void aTornRecordAtTheEndIsCutOffOnRestart(@TempDir Path dir) throws Exception {
        var down = new SwitchableSink();
        down.up.set(false);
        try (Spool spool = Spool.open(dir, FAST, down)) {
            for (int i = 0; i < 10; i++) {
                spool.offer(record(i));
            }
        }
        // A crash in the middle of a write: a header that promises more bytes than follow.
        Files.write(dir.resolve("spool.log"), new byte[] {0, 0, 1, 0, 1, 2, 3, 4, 5}, StandardOpenOption.APPEND);

        var sink = new SwitchableSink();
        try (Spool spool = Spool.open(dir, FAST, sink)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted.size() == 10);
            spool.offer(record(10));
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted.size() == 11);
            assertThat(sink.accepted).isEqualTo(expected(0, 11));
        }
    }

    @Test
    void aPartlyDeliveredBatchIsResumedAfterItsDeliveredPrefixWithoutDuplicates(@TempDir Path dir) {
        var accepted = Collections.synchronizedList(new ArrayList<String>());
        var calls = new AtomicInteger();
        Spool.Sink flaky = batch -> {
            // The first call delivers only the first three records, as a producer that lost Kafka mid-batch would.
            int take = calls.getAndIncrement() == 0 ? Math.min(3, batch.size()) : batch.size();
            batch.subList(0, take).forEach(r -> accepted.add(new String(r.value(), StandardCharsets.UTF_8)));
            return take;
        };
        try (Spool spool = Spool.open(dir, new Spool.Options(10_000, 1L << 20, 50), flaky)) {
            for (int i = 0; i < 10; i++) {
                spool.offer(record(i));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> accepted.size() >= 10);
            assertThat(accepted).isEqualTo(expected(0, 10));
        }
    }

    @Test
    void aFullSpoolRefusesInsteadOfGrowingWithoutBound(@TempDir Path dir) throws Exception {
        var sink = new SwitchableSink();
        sink.up.set(false);
        try (Spool spool = Spool.open(dir, new Spool.Options(10_000, 2_000, 5), sink)) {
            int accepted = 0;
            for (int i = 0; i < 1000; i++) {
                if (spool.offer(record(i))) {
                    accepted++;
                }
                Thread.sleep(0, 100_000);
            }
            assertThat(accepted).isLessThan(1000);
            assertThat(spool.refusedRecords()).isEqualTo(1000 - accepted);
            assertThat(Files.size(dir.resolve("spool.log"))).isLessThan(10_000);
        }
    }

    @Test
    void aCheckpointOfTheEarlierFormatIsReadAndAnUnusableOneRedeliversRatherThanSkips(@TempDir Path dir) throws Exception {
        var first = new SwitchableSink();
        try (Spool spool = Spool.open(dir, FAST, first)) {
            for (int i = 0; i < 20; i++) {
                spool.offer(record(i));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> first.accepted.size() == 20);
        }
        long delivered = Long.parseLong(Files.readString(dir.resolve("spool.checkpoint")).strip());
        assertThat(delivered).isEqualTo(Files.size(dir.resolve("spool.log")));

        Files.writeString(dir.resolve("spool.checkpoint"), Long.toString(delivered)); // as the rename-based spool wrote it
        var upgraded = new SwitchableSink();
        try (Spool spool = Spool.open(dir, FAST, upgraded)) {
            Thread.sleep(200);
            assertThat(upgraded.accepted).as("nothing delivered twice after the upgrade").isEmpty();
        }

        for (String unusable : List.of("garbage", Long.toString(delivered + 1_000))) {
            Files.writeString(dir.resolve("spool.checkpoint"), unusable);
            var again = new SwitchableSink();
            try (Spool spool = Spool.open(dir, FAST, again)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> again.accepted.size() == 20);
                assertThat(again.accepted).as("checkpoint '%s': the log again from its start, nothing skipped", unusable)
                        .isEqualTo(expected(0, 20));
            }
        }
    }
}
