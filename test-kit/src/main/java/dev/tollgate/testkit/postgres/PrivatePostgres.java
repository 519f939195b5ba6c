package dev.tollgate.testkit.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of a test's own, from the machine's PostgreSQL binaries (Debian's
 * {@code /usr/lib/postgresql/<version>/bin}), in a temporary data directory on a free port, with
 * trust authentication for {@code postgres}: a server a test may stop, crash and start again without
 * disturbing anything else on the machine. As root (PostgreSQL refuses to run as root) it runs the
 * server as the {@code postgres} system user. Not zonky's EmbeddedPostgres (the dev stack's fallback):
 * it runs initdb and the server as the calling user, which fails as root (CI here), and it has no
 * crash-and-restart of one data directory.
 */
public final class PrivatePostgres implements AutoCloseable {
    private final Path binaries;
    private final Path dataDir;
    private final int port;
    private final boolean asPostgresUser;

    private PrivatePostgres(Path binaries, Path dataDir, int port, boolean asPostgresUser) {
        this.binaries = binaries;
        this.dataDir = dataDir;
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    /** The newest PostgreSQL installation's {@code bin}, if this machine has one. */
    public static Optional<Path> binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin")).filter(bin -> Files.isExecutable(bin.resolve("initdb")))
                    .max(Comparator.comparing(bin -> versionOf(bin.getParent())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int versionOf(Path versionDir) {
        try {
            return Integer.parseInt(versionDir.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Initializes a new cluster and starts it. */
    public static PrivatePostgres create() {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException("no PostgreSQL binaries under /usr/lib/postgresql"));
        boolean root = "root".equals(System.getProperty("user.name"));
        try {
            Path dir = Files.createTempDirectory("tollgate-pg-");
            if (root) {
                UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
                var view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
                view.setOwner(users.lookupPrincipalByName("postgres"));
                GroupPrincipal group = users.lookupPrincipalByGroupName("postgres");
                view.setGroup(group);
            }
            var server = new PrivatePostgres(bin, dir.resolve("data"), freePort(), root);
            server.run(List.of(bin.resolve("initdb").toString(), "-D", server.dataDir.toString(), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--no-sync"), Duration.ofMinutes(2));
            server.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the (stopped) server on its port and waits until it accepts connections. */
    public void start() {
        run(List.of(binaries.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-l", dataDir.getParent().resolve("server.log").toString(),
                "-o", "-h 127.0.0.1 -p " + port + " -k " + dataDir.getParent() + " -c fsync=off", "-w", "-t", "60", "start"),
                Duration.ofSeconds(90));
    }

    /** Stops the server the way a crash or a pulled plug would: every backend killed, no checkpoint, recovery on the next start. */
    public void crash() {
        run(List.of(binaries.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "immediate", "-w", "stop"), Duration.ofSeconds(60));
    }

    /** Connection settings for {@link PostgresDatabase}. */
    public PostgresDatabase.Server server() {
        return new PostgresDatabase.Server("127.0.0.1", port, "postgres", "");
    }

    public int port() {
        return port;
    }

    private void run(List<String> command, Duration timeout) {
        var full = new ArrayList<String>();
        if (asPostgresUser) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        try {
            Path output = Files.createTempFile("tollgate-pg-cmd-", ".log");
            Process process = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeout);
            }
            String text = Files.readString(output);
            Files.deleteIfExists(output);
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + process.exitValue() + "): " + text);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Stops the server (if running) and deletes its data. */
    @Override
    public void close() {
        try {
            run(List.of(binaries.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "immediate", "-w", "stop"), Duration.ofSeconds(60));
        } catch (IllegalStateException e) {
            // already stopped
        }
        try (Stream<Path> files = Files.walk(dataDir.getParent())) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
