package dev.tollgate.gateway.spool;

import dev.tollgate.gateway.support.SmallDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The spool on a disk that really fills up: a 256 KiB tmpfs, mounted for the test (needs root, as CI
 * has; skipped with the reason otherwise). Every record the spool accepted reaches the sink exactly
 * once and in order; what it refused, it refused at once (the caller's fail-open or fail-closed policy
 * counts or refuses it); the file stays readable; and once Kafka is back the spool frees its own space
 * and takes records again without an operator.
 */
class SpoolDiskFullIT {
    private static final Spool.Options OPTIONS = new Spool.Options(10_000, 1L << 30, 5);
    private static final int VALUE_BYTES = 1_000;

    @TempDir
    Path temp;
    private SmallDisk small;
    private Path disk;

    @BeforeEach
    void mountASmallDisk() throws Exception {
        small = SmallDisk.mount(temp.resolve("disk"), "256k");
        disk = small.root();
    }

    @AfterEach
    void unmount() throws Exception {
        small.close();
    }

    @Test
    void aFullDiskLosesNoAcceptedRecordAndTheSpoolRecoversByItself() throws Exception {
        var sink = new SpoolTest.SwitchableSink();
        sink.up.set(false); // Kafka is down: nothing drains, the spool grows until the disk is full
        List<String> accepted = new ArrayList<>();
        int refused = 0;
        int next = 0;
        Path directory = disk.resolve("spool");
        try (Spool spool = Spool.open(directory, OPTIONS, sink)) {
            while (!spool.diskFailing() && next < 5_000) {
                if (spool.offer(record(next))) {
                    accepted.add(value(next));
                } else {
                    refused++;
                }
                next++;
                if (next % 20 == 0) {
                    Thread.sleep(2); // a gateway under load, not one burst: the writer meets the full disk between offers
                }
            }
            assertThat(spool.diskFailing()).as("the disk filled up").isTrue();
            int acceptedWhileFull = 0;
            for (int i = 0; i < 3_000; i++, next++) {
                if (spool.offer(record(next))) {
                    accepted.add(value(next));
                    acceptedWhileFull++;
                } else {
                    refused++;
                }
            }
            assertThat(acceptedWhileFull).as("while the disk refuses writes, a tenth of the queue takes records in memory, then no more")
                    .isPositive().isLessThanOrEqualTo(OPTIONS.maxQueuedRecords() / 10);
            assertThat(accepted).as("the disk held a good part of 256 KiB before it filled").hasSizeGreaterThan(150);
            System.out.printf("[fault] spool on a 256 KiB disk, Kafka down: %d records accepted (%d in memory while the disk was full), %d refused, "
                    + "%d disk failures%n", accepted.size(), acceptedWhileFull, refused, spool.diskFailures());

            sink.up.set(true); // Kafka is back: the spool delivers, frees the disk and writes what it held in memory
            await().atMost(Duration.ofSeconds(60)).until(() -> sink.accepted.size() >= accepted.size() && !spool.diskFailing());
            assertThat(sink.accepted).as("every accepted record delivered exactly once, in order").isEqualTo(accepted);

            List<String> after = new ArrayList<>();
            for (int i = 0; i < 100; i++, next++) {
                assertThat(spool.offer(record(next))).as("the spool takes records again").isTrue();
                after.add(value(next));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted.size() == accepted.size() + after.size());
            assertThat(sink.accepted.subList(accepted.size(), sink.accepted.size())).isEqualTo(after);
            assertThat(small.freeBytes()).as("the spool gave the disk back its space")
                    .isGreaterThan(100 * 1024);
        }

        var afterRestart = new SpoolTest.SwitchableSink();
        try (Spool reopened = Spool.open(directory, OPTIONS, afterRestart)) {
            Thread.sleep(500);
            assertThat(afterRestart.accepted).as("a restart finds everything delivered: nothing sent twice").isEmpty();
            assertThat(reopened.pendingBytes()).isZero();
        }
    }

    @Test
    void onADiskLeftNearlyFullTheSpoolKeepsFreeingItsOwnSpace() throws Exception {
        var sink = new SpoolTest.SwitchableSink(); // Kafka is up
        small.fillLeaving(40 * 1024); // another tenant of the disk leaves room for about 40 events
        List<String> accepted = new ArrayList<>();
        int refused = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Spool spool = Spool.open(disk.resolve("spool"), OPTIONS, sink)) {
            for (int next = 0; accepted.size() < 1_000 && System.nanoTime() < deadline; next++) {
                if (spool.offer(record(next))) {
                    accepted.add(value(next));
                } else {
                    refused++;
                    Thread.sleep(1);
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> sink.accepted.size() >= accepted.size() && !spool.diskFailing());
            assertThat(sink.accepted).as("every accepted record delivered exactly once, in order").isEqualTo(accepted);
            assertThat(accepted).as("1,000 records through a disk with room for 40").hasSize(1_000);
            assertThat(spool.diskFailures()).as("the disk filled again and again").isGreaterThan(5);
            System.out.printf("[fault] 1,000 records through a spool on a disk with room for ~40, Kafka up: %d refused while full, %d disk failures, "
                    + "all accepted delivered once, in order%n", refused, spool.diskFailures());
        }
    }

    private static Spool.Record record(int i) {
        return new Spool.Record("tenant-" + (i % 3), value(i).getBytes(StandardCharsets.UTF_8));
    }

    /** A distinct value of {@value #VALUE_BYTES} bytes, about the size of a usage event. */
    private static String value(int i) {
        String prefix = "event-" + i + "-";
        char[] padding = new char[VALUE_BYTES - prefix.length()];
        Arrays.fill(padding, 'x');
        return prefix + new String(padding);
    }
}
