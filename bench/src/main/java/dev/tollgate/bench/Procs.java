package dev.tollgate.bench;

import dev.tollgate.testkit.process.CpuTime;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Child processes of a benchmark run, and what Linux says they used (CPU time, peak resident memory). */
final class Procs {
    private Procs() {}

    static Process start(List<String> command, Map<String, String> env, Path log) throws IOException {
        var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(env);
        return builder.start();
    }

    /** The JVM that runs {@code mainClass} with this JVM's classpath. */
    static List<String> java(String mainClass, List<String> jvmOptions, String... args) {
        var command = new ArrayList<String>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        return command;
    }

    private static Stream<ProcessHandle> tree(ProcessHandle process) {
        return Stream.concat(Stream.of(process), process.descendants());
    }

    /** CPU seconds (user + system) the process and its descendants have used so far. */
    static double cpuSeconds(ProcessHandle process) {
        return tree(process).mapToDouble(Procs::ownCpuSeconds).sum();
    }

    /** CPU seconds (user + system) the process itself (not its children) has used so far; 0 once it is gone. */
    static double ownCpuSeconds(ProcessHandle p) {
        return CpuTime.ofProcess(p.pid());
    }

    /**
     * CPU seconds per thread group of one process: its threads' {@code comm} names with digits dropped
     * ("vert.x-eventloop-thread-", "C2 CompilerThread", "GC Thread#"...); empty once it is gone.
     */
    static Map<String, Double> cpuSecondsByThread(ProcessHandle p) {
        Map<String, Double> groups = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(p.pid()), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]", "");
                    groups.merge(name, CpuTime.ofStatLine(stat), Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        return groups;
    }

    /** Peak resident memory (VmHWM) of the process and its descendants, in MiB. */
    static double peakRssMib(ProcessHandle process) {
        return tree(process).mapToDouble(p -> {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
                    if (line.startsWith("VmHWM:")) {
                        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone
            }
            return 0;
        }).sum();
    }

    /** Waits until {@code url} answers 2xx (or fails after {@code timeout}). */
    static void awaitUp(String url, Duration timeout, Map<String, String> headers) throws InterruptedException {
        var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5));
                headers.forEach(request::header);
                if (http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode() / 100 == 2) {
                    return;
                }
            } catch (IOException e) {
                // not yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(url + " did not come up within " + timeout);
    }

    static int freePort() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Sums every series of {@code name} (a prefix up to the label set) in the Prometheus text at {@code base + "/metrics"}; NaN if unreadable. */
    static double metric(String base, String name) {
        try {
            String text = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            double sum = 0;
            for (String line : text.split("\n")) {
                if (line.startsWith(name)) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return sum;
        } catch (Exception e) {
            return Double.NaN;
        }
    }
}
