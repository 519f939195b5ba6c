package dev.tollgate.gateway.upstream;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class UpstreamWatcherTest {
    private static final String ONE = "pools: {p: {endpoints: [{url: 'http://127.0.0.1:1'}]}}\nmodels: {a: {pool: p}}\n";
    private static final String TWO = "pools: {p: {endpoints: [{url: 'http://127.0.0.1:1'}]}}\nmodels: {a: {pool: p}, b: {pool: p}}\n";

    private static void write(Path file, String yaml, int secondsLater) throws Exception {
        Files.writeString(file, yaml);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(secondsLater)));
    }

    @Test
    void aChangedFileIsReloadedAndAnInvalidOneIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("upstreams.yaml");
        write(file, ONE, 0);
        Vertx vertx = Vertx.vertx();
        try {
            UpstreamWatcher watcher = UpstreamWatcher.start(vertx, file, 50);
            assertThat(watcher.get().config().modelNames()).containsExactly("a");

            write(file, TWO, 10);
            await().atMost(Duration.ofSeconds(5)).until(() -> watcher.get().config().modelNames().size() == 2);

            write(file, "models: {c: {pool: missing}}\n", 20);
            Thread.sleep(300);
            assertThat(watcher.get().config().modelNames()).as("the previous configuration stays").containsExactly("a", "b");
        } finally {
            vertx.close();
        }
    }
}
