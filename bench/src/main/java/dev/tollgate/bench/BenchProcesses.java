package dev.tollgate.bench;

import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

    /**
     * A one-worker nginx named {@code name}, pinned to {@code core}, with access logging off and
     * keep-alive for ever; {@code server} is what goes inside its {@code http} block.
     */
    void nginx(String name, String core, String server) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve(name));
        Files.writeString(dir.resolve("nginx.conf"), """
                worker_processes 1;
                error_log %1$s/error.log warn;
                pid %1$s/nginx.pid;
                worker_rlimit_nofile 65536;
                events { worker_connections 30000; }
                http {
                  access_log off;
                  client_body_temp_path %1$s/body;
                  proxy_temp_path %1$s/proxy;
                  keepalive_requests 1000000;
                  %2$s
                }
                """.formatted(dir, server));
        start(name, pinned(core, List.of("/usr/sbin/nginx", "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(), "-g",
                "daemon off;")), Map.of());
    }

    /** A one-node Kafka cluster (server {@code kafka}) pinned to {@code core}; returns its bootstrap address. */
    String kafka(String core) throws IOException, InterruptedException {
        int brokerPort = Procs.freePort();
        int controllerPort = Procs.freePort();
        start("kafka", pinned(core, Procs.java("dev.tollgate.testkit.kafka.KafkaNode", List.of("-Xmx1g"), "--node-id", "1",
                "--broker-port", Integer.toString(brokerPort), "--controller-port", Integer.toString(controllerPort), "--voters",
                "1@127.0.0.1:" + controllerPort, "--cluster-id", Uuid.randomUuid().toString(), "--data-dir",
                work.resolve("kafka").toString(), "--replication", "1")), Map.of());
        return "127.0.0.1:" + brokerPort;
    }

    /**
     * The gateway (server {@code tollgate}) pinned to {@code core} with {@code eventLoops} loops, the
     * pools and models of {@code upstreamsYaml}, usage through its disk spool to {@code bootstrap},
     * everything on; returns its base URL once it serves.
     */
    String tollgate(String core, String upstreamsYaml, String bootstrap, String eventLoops, List<String> jvm)
            throws IOException, InterruptedException {
        return tollgate(core, upstreamsYaml, bootstrap, eventLoops, jvm, Map.of());
    }

    /** As above, with more environment variables for the gateway ({@code extraEnv} wins). */
    String tollgate(String core, String upstreamsYaml, String bootstrap, String eventLoops, List<String> jvm, Map<String, String> extraEnv)
            throws IOException, InterruptedException {
        int port = Procs.freePort();
        Path upstreams = work.resolve("upstreams.yaml");
        Files.writeString(upstreams, upstreamsYaml);
        Map<String, String> env = new LinkedHashMap<>(Map.of(
                "TOLLGATE_GATEWAY_PORT", Integer.toString(port), "TOLLGATE_UPSTREAMS", upstreams.toString(),
                "TOLLGATE_KAFKA_BOOTSTRAP", bootstrap, "TOLLGATE_SPOOL_DIR", work.resolve("spool").toString(),
                "HOSTNAME", "bench-gateway", "TOLLGATE_GATEWAY_EVENT_LOOPS", eventLoops,
                // every load generator connection comes from loopback: the per-address idle cap would close them between requests
                "TOLLGATE_MAX_IDLE_CONNECTIONS_PER_ADDRESS", "100000"));
        env.putAll(extraEnv);
        start("tollgate", pinned(core, Procs.java("dev.tollgate.gateway.GatewayMain", jvm)), env);
        String base = "http://127.0.0.1:" + port;
        Procs.awaitUp(base + "/readyz", Duration.ofSeconds(90), Map.of());
        return base;
    }

    /** {@code command} run on {@code core} only ({@code taskset -c}). */
    static List<String> pinned(String core, List<String> command) {
        var pinned = new ArrayList<>(List.of("taskset", "-c", core));
        pinned.addAll(command);
        return pinned;
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
