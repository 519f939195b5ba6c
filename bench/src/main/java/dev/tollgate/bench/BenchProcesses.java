package dev.tollgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The servers of one benchmark run, each a child process logging to {@code <work>/<name>.log}, found
 * by name, and stopped (with their own children) when the run ends.
 */
final class BenchProcesses implements AutoCloseable {
    private final Path work;
    private final List<Process> children = new ArrayList<>();
    private final Map<String, ProcessHandle> servers = new LinkedHashMap<>();

    /** A run whose servers log into a new temporary directory named {@code prefix...}. */
    BenchProcesses(String prefix) throws IOException {
        this.work = Files.createTempDirectory(prefix);
    }

    /** The run's directory: server logs, configuration files, data. */
    Path work() {
        return work;
    }

    /** {@code --name value} pairs of a command line. */
    static Map<String, String> options(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        return options;
    }

    /** Starts {@code command} as server {@code name}; fails if it exits at once. */
    void start(String name, List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Process process = Procs.start(command, env, work.resolve(name + ".log"));
        children.add(process);
        servers.put(name, process.toHandle());
        Thread.sleep(200);
        if (!process.isAlive()) {
            throw new IllegalStateException(name + " exited at once; see " + work.resolve(name + ".log"));
        }
    }

    ProcessHandle get(String name) {
        return servers.get(name);
    }

    @Override
    public void close() {
        children.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        });
        for (Process p : children) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
