package dev.tollgate.gateway.upstream;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Reloads the upstream file without a restart: checks it every {@code intervalMs}, and when it
 * changed, parses it off the event loop and swaps in new endpoints. An invalid file is refused
 * with a log line naming the offending key; the previous endpoints stay in force. Requests in
 * flight finish on the endpoints they were routed to.
 */
public final class UpstreamWatcher implements Supplier<EndpointPool> {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamWatcher.class);

    private final Path file;
    private final AtomicReference<EndpointPool> current;
    private volatile FileTime lastModified;

    private UpstreamWatcher(Path file, EndpointPool initial, FileTime modified) {
        this.file = file;
        this.current = new AtomicReference<>(initial);
        this.lastModified = modified;
    }

    /** Loads the file (failing fast if it is invalid) and starts watching it. */
    public static UpstreamWatcher start(Vertx vertx, Path file, long intervalMs) throws IOException {
        FileTime modified = Files.getLastModifiedTime(file);
        var watcher = new UpstreamWatcher(file, new EndpointPool(UpstreamConfig.load(file)), modified);
        vertx.setPeriodic(intervalMs, id -> vertx.executeBlocking(() -> {
            watcher.reloadIfChanged();
            return null;
        }, false));
        return watcher;
    }

    @Override
    public EndpointPool get() {
        return current.get();
    }

    void reloadIfChanged() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (modified.equals(lastModified)) {
                return;
            }
            lastModified = modified;
            current.set(new EndpointPool(UpstreamConfig.load(file)));
            LOG.info("upstream file {} reloaded: models {}", file, current.get().config().modelNames());
        } catch (IOException | IllegalArgumentException e) {
            LOG.error("upstream file {} not reloaded, the previous configuration stays in force: {}", file, e.getMessage());
        }
    }
}
