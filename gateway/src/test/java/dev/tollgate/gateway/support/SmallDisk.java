package dev.tollgate.gateway.support;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A disk that really fills up, for the spool's disk-full tests: a tmpfs of a few hundred KiB mounted
 * on a temporary directory (needs root, as CI has; the test is skipped with the reason otherwise).
 * Writes past its size fail with {@code ENOSPC} like on any full disk.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path root;

    private SmallDisk(Path root) {
        this.root = root;
    }

    /** Mounts a tmpfs of {@code size} (e.g. {@code 256k}) on {@code directory}, created if needed. */
    public static SmallDisk mount(Path directory, String size) throws IOException, InterruptedException {
        Files.createDirectories(directory);
        int status = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tollgate-test-disk", directory.toString());
        assumeTrue(status == 0, "needs to mount a tmpfs (root): mount exited " + status);
        return new SmallDisk(directory);
    }

    public Path root() {
        return root;
    }

    /** Bytes still free. */
    public long freeBytes() throws IOException {
        return Files.getFileStore(root).getUsableSpace();
    }

    /** Another tenant of the disk takes all of it but {@code leaveBytes} (roughly: whole pages). */
    public Path fillLeaving(long leaveBytes) throws IOException {
        Path filler = root.resolve("filler-" + System.nanoTime());
        try (FileChannel channel = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer page = ByteBuffer.allocate(4096);
            while (freeBytes() > leaveBytes) {
                page.clear();
                page.limit((int) Math.min(page.capacity(), freeBytes() - leaveBytes));
                channel.write(page);
            }
        }
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("umount", "-l", root.toString());
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
