package dev.tollgate.bench;

import dev.tollgate.schemas.key.ApiKeys;
import org.HdrHistogram.Histogram;
import org.apache.kafka.common.Uuid;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench/run.sh}: one run, one machine, one fake upstream, five ways to reach it: (a) directly,
 * (b) nginx {@code proxy_pass}, (c) the Portkey AI gateway (npm), (d) Tollgate with authentication,
 * rate limits and metering to Kafka, (e) Tollgate with Kafka stopped (usage spooled to disk). Every
 * server is its own process (their CPU time and peak memory are read from /proc), the Kafka node too;
 * the load generator runs in this one. Prints one Markdown report (and writes it to --out).
 */
public final class ComparisonBench {
    private static final String SMALL = "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],\"max_tokens\":16}";
    private static final String STREAM = "{\"model\":\"fake-stream\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
            + "\"Tell me a story\"}],\"max_tokens\":256}";
    private static final String PATH = "/v1/chat/completions";

    private final BenchProcesses servers;
    private final Path work;
    private final StringBuilder report = new StringBuilder();

    private ComparisonBench(BenchProcesses servers) {
        this.servers = servers;
        this.work = servers.work();
    }

    public static void main(String[] args) throws Exception {
        try (var servers = new BenchProcesses("tollgate-bench")) {
            new ComparisonBench(servers).run(BenchProcesses.options(args));
        }
        System.exit(0);
    }

    private void print(String line) {
        System.out.println(line);
        report.append(line).append('\n');
    }

    private void run(Map<String, String> options) throws Exception {
        Duration seconds = Duration.ofSeconds(Long.parseLong(options.getOrDefault("seconds", "10")));
        Duration streamSeconds = Duration.ofSeconds(Long.parseLong(options.getOrDefault("stream-seconds", "15")));
        List<Integer> streamCounts = Arrays.stream(options.getOrDefault("streams", "1000,5000").split(","))
                .map(String::strip).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList();
        int concurrency = Integer.parseInt(options.getOrDefault("concurrency", "64"));
        String nginxBinary = options.getOrDefault("nginx", "/usr/sbin/nginx");
        Path portkeyDir = Path.of(options.getOrDefault("portkey-dir", "bench/.portkey"));

        // The fake upstream twice: small answers (16 tokens at once) and streams (256 tokens, 20 ms apart).
        int smallPort = Procs.freePort();
        int streamPort = Procs.freePort();
        servers.start("upstream-small", Procs.java("dev.tollgate.testkit.upstream.FakeUpstream", List.of("-Xmx1g"),
                "--port", Integer.toString(smallPort), "--models", "fake-chat", "--completion-tokens", "16"), Map.of());
        servers.start("upstream-stream", Procs.java("dev.tollgate.testkit.upstream.FakeUpstream", List.of("-Xmx1g"),
                "--port", Integer.toString(streamPort), "--models", "fake-stream", "--completion-tokens", "256",
                "--inter-token-ms", "20"), Map.of());
        String small = "http://127.0.0.1:" + smallPort;
        String stream = "http://127.0.0.1:" + streamPort;
        Procs.awaitUp(small + "/v1/models", Duration.ofSeconds(60), Map.of());
        Procs.awaitUp(stream + "/v1/models", Duration.ofSeconds(60), Map.of());

        // One Kafka node in its own JVM (not this one: its CPU and GC must not stall the load generator), with a tenant
        // and a key whose limits are high but checked on every request.
        int brokerPort = Procs.freePort();
        int controllerPort = Procs.freePort();
        String bootstrap = "127.0.0.1:" + brokerPort;
        servers.start("kafka", Procs.java("dev.tollgate.testkit.kafka.KafkaNode", List.of("-Xmx1g"), "--node-id", "1", "--broker-port",
                Integer.toString(brokerPort), "--controller-port", Integer.toString(controllerPort), "--voters",
                "1@127.0.0.1:" + controllerPort, "--cluster-id", Uuid.randomUuid().toString(), "--data-dir",
                work.resolve("kafka").toString(), "--replication", "1"), Map.of());
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        BenchTenant.seed(bootstrap, key);

        // Tollgate in its own JVM, 512 MiB of heap, everything on (JSON access log included).
        int gatewayPort = Procs.freePort();
        Path upstreams = work.resolve("upstreams.yaml");
        Files.writeString(upstreams, """
                pools:
                  small:
                    timeouts: {connectMs: 60000}
                    ejection: {afterFailures: 1000000, forMs: 1000}
                    endpoints: [{url: "%s", maxConcurrency: 100000, maxQueued: 100000}]
                  stream:
                    timeouts: {connectMs: 60000}
                    ejection: {afterFailures: 1000000, forMs: 1000}
                    endpoints: [{url: "%s", maxConcurrency: 100000, maxQueued: 100000}]
                models:
                  fake-chat: {pool: small}
                  fake-stream: {pool: stream}
                """.formatted(small, stream));
        var gatewayJvm = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseG1GC"));
        if (options.containsKey("gateway-jfr")) { // a profile of the gateway for "what bounds it"
            gatewayJvm.add("-XX:StartFlightRecording=filename=" + options.get("gateway-jfr") + ",settings=profile,dumponexit=true");
        }
        servers.start("tollgate", Procs.java("dev.tollgate.gateway.GatewayMain", gatewayJvm), Map.of(
                "TOLLGATE_GATEWAY_PORT", Integer.toString(gatewayPort), "TOLLGATE_UPSTREAMS", upstreams.toString(),
                "TOLLGATE_KAFKA_BOOTSTRAP", bootstrap, "TOLLGATE_SPOOL_DIR", work.resolve("spool").toString(),
                "HOSTNAME", "bench-gateway",
                // every load generator connection comes from loopback: the per-address idle cap would close them between requests
                "TOLLGATE_MAX_IDLE_CONNECTIONS_PER_ADDRESS", "100000"));
        String tollgate = "http://127.0.0.1:" + gatewayPort;
        Procs.awaitUp(tollgate + "/readyz", Duration.ofSeconds(90), Map.of());
        Procs.awaitUp(tollgate + "/v1/models", Duration.ofSeconds(60), Map.of("authorization", "Bearer " + key.token()));

        // nginx (Debian package) with keep-alive upstreams and unbuffered proxying for SSE.
        int nginxSmall = Procs.freePort();
        int nginxStream = Procs.freePort();
        boolean haveNginx = Files.isExecutable(Path.of(nginxBinary));
        if (haveNginx) {
            Path dir = Files.createDirectories(work.resolve("nginx"));
            Files.writeString(dir.resolve("nginx.conf"), """
                    worker_processes auto;
                    error_log %1$s/error.log warn;
                    pid %1$s/nginx.pid;
                    events { worker_connections 20000; }
                    http {
                      access_log %1$s/access.log;
                      client_body_temp_path %1$s/body;
                      proxy_temp_path %1$s/proxy;
                      upstream small { server 127.0.0.1:%2$d; keepalive 1024; }
                      upstream stream { server 127.0.0.1:%3$d; keepalive 1024; }
                      server { listen 127.0.0.1:%4$d; location / { proxy_pass http://small; proxy_http_version 1.1;
                        proxy_set_header Connection ""; proxy_buffering off; } }
                      server { listen 127.0.0.1:%5$d; location / { proxy_pass http://stream; proxy_http_version 1.1;
                        proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 300s; } }
                    }
                    """.formatted(dir, smallPort, streamPort, nginxSmall, nginxStream));
            servers.start("nginx", List.of(nginxBinary, "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(), "-g",
                    "daemon off;"), Map.of());
            Procs.awaitUp("http://127.0.0.1:" + nginxSmall + "/v1/models", Duration.ofSeconds(30), Map.of());
        }

        // Portkey's gateway (npm), pointed at the fake upstream with its custom-host header.
        int portkeyPort = Procs.freePort();
        Path portkeyServer = portkeyDir.resolve("node_modules/@portkey-ai/gateway/build/start-server.js");
        boolean havePortkey = Files.exists(portkeyServer);
        if (havePortkey) {
            servers.start("portkey", List.of("node", portkeyServer.toAbsolutePath().toString(), "--port=" + portkeyPort, "--headless"),
                    Map.of("NODE_ENV", "production"));
            Procs.awaitUp("http://127.0.0.1:" + portkeyPort + "/", Duration.ofSeconds(60), Map.of());
        }

        var direct = new Row("direct", new LoadGenerator.Target("direct", small, Map.of()),
                new LoadGenerator.Target("direct", stream, Map.of()), "upstream-small");
        var rows = new ArrayList<Row>();
        rows.add(direct);
        if (haveNginx) {
            rows.add(new Row("nginx", new LoadGenerator.Target("nginx", "http://127.0.0.1:" + nginxSmall, Map.of()),
                    new LoadGenerator.Target("nginx", "http://127.0.0.1:" + nginxStream, Map.of()), "nginx"));
        }
        if (havePortkey) {
            String base = "http://127.0.0.1:" + portkeyPort;
            rows.add(new Row("portkey", new LoadGenerator.Target("portkey", base, Map.of("x-portkey-provider", "openai",
                    "x-portkey-custom-host", small + "/v1", "authorization", "Bearer sk-bench")),
                    new LoadGenerator.Target("portkey", base, Map.of("x-portkey-provider", "openai",
                            "x-portkey-custom-host", stream + "/v1", "authorization", "Bearer sk-bench")), "portkey"));
        }
        Map<String, String> auth = Map.of("authorization", "Bearer " + key.token());
        var tollgateRow = new Row("tollgate", new LoadGenerator.Target("tollgate", tollgate, auth),
                new LoadGenerator.Target("tollgate", tollgate, auth), "tollgate");
        rows.add(tollgateRow);
        var spoolRow = new Row("tollgate-spool", tollgateRow.small, tollgateRow.stream, "tollgate");

        print("# Tollgate benchmark run " + Instant.now());
        print("");
        print("Machine: " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version") + "; load generator, Kafka broker, "
                + "upstreams and the proxy under test share the cores.");
        print("Workloads: small = non-streamed chat, 16 tokens at once, " + concurrency + " connections for saturation, "
                + seconds.toSeconds() + " s per measurement; streams = 256 tokens 20 ms apart, N concurrent streams for "
                + streamSeconds.toSeconds() + " s.");
        print("");

        try (var load = new LoadGenerator(20_000)) {
            var smallWork = new LoadGenerator.Workload(PATH, SMALL, false);
            // Warm-up (JIT) for every target, not measured: the JVMs (upstream, Tollgate) compile for tens of seconds.
            var streamWork = new LoadGenerator.Workload(PATH, STREAM, true);
            Duration warmUp = Duration.ofSeconds(Long.parseLong(options.getOrDefault("warm-up-seconds", "20")));
            for (Row row : rows) {
                load.closedLoop(row.small, smallWork, concurrency, warmUp);
                load.closedLoop(row.stream, streamWork, 200, warmUp.dividedBy(2));
            }
            // Streams first, small requests after: by then every JVM has compiled its hot paths (a C2 thread was seen
            // busy for a third of a core during an earlier ordering), as it has for the Kafka-down rows measured last.
            for (int n : streamCounts) {
                for (Row row : rows) {
                    row.streams.put(n, streams(load, row, streamWork, n, streamSeconds, tollgate));
                }
            }
            for (Row row : rows) {
                saturate(load, row, smallWork, concurrency, seconds);
            }
            double rate = 0.5 * rows.stream().filter(r -> !r.name.equals("portkey")).mapToDouble(r -> r.saturation).min().orElseThrow();
            for (Row row : rows) {
                double rowRate = row.name.equals("portkey") ? Math.min(rate, 0.5 * row.saturation) : rate;
                row.loadRate = rowRate;
                row.atHalf = load.openLoop(row.small, smallWork, rowRate, seconds, 10_000);
            }
            // (e) Kafka stops: authentication works from the loaded state, usage goes to the spool.
            ProcessHandle broker = servers.get("kafka");
            broker.destroy();
            broker.onExit().get(60, TimeUnit.SECONDS);
            Thread.sleep(2_000);
            load.closedLoop(spoolRow.small, smallWork, concurrency, Duration.ofSeconds(3));
            saturate(load, spoolRow, smallWork, concurrency, seconds);
            spoolRow.loadRate = rate;
            spoolRow.atHalf = load.openLoop(spoolRow.small, smallWork, rate, seconds, 10_000);
            spoolRow.streams.put(streamCounts.getFirst(), streams(load, spoolRow, streamWork, streamCounts.getFirst(), streamSeconds, tollgate));
            rows.add(spoolRow);
            spoolRow.spooledBytes = Procs.metric(tollgate, "tollgate_gateway_spool_pending_bytes");
        }
        table(rows, direct, streamCounts);
        Path out = Path.of(options.getOrDefault("out", "bench/results/latest.md"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("written to " + out);
    }

    private static final class Row {
        final String name;
        final LoadGenerator.Target small;
        final LoadGenerator.Target stream;
        final String process;
        double saturation;
        double cpuPerThousand = Double.NaN;
        double loadRate;
        LoadGenerator.Stats atHalf;
        final Map<Integer, StreamResult> streams = new LinkedHashMap<>();
        double spooledBytes = Double.NaN;

        Row(String name, LoadGenerator.Target small, LoadGenerator.Target stream, String process) {
            this.name = name;
            this.small = small;
            this.stream = stream;
            this.process = process;
        }
    }

    private record StreamResult(LoadGenerator.Stats stats, double heapMaxMib) {}

    private void saturate(LoadGenerator load, Row row, LoadGenerator.Workload work, int concurrency, Duration seconds)
            throws InterruptedException {
        ProcessHandle process = servers.get(row.process);
        double cpuBefore = Procs.cpuSeconds(process);
        LoadGenerator.Stats stats = load.closedLoop(row.small, work, concurrency, seconds);
        double cpu = Procs.cpuSeconds(process) - cpuBefore;
        row.saturation = stats.ratePerSecond();
        row.cpuPerThousand = stats.ok.get() == 0 ? Double.NaN : cpu / (stats.ok.get() / 1000.0);
        System.out.printf(Locale.ROOT, "[%s] saturation %.0f req/s (%d ok, %d errors), %.3f CPU s per 1000%n", row.name,
                row.saturation, stats.ok.get(), stats.errors.get(), row.cpuPerThousand);
    }

    private StreamResult streams(LoadGenerator load, Row row, LoadGenerator.Workload work, int n, Duration seconds, String tollgate)
            throws InterruptedException {
        var heapMax = new AtomicLong();
        Thread sampler = null;
        if (row.name.startsWith("tollgate")) {
            sampler = Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    heapMax.accumulateAndGet((long) Procs.metric(tollgate, "jvm_memory_used_bytes{area=\"heap\""), Math::max);
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }
        LoadGenerator.Stats stats = load.closedLoop(row.stream, work, n, seconds);
        if (sampler != null) {
            sampler.interrupt();
        }
        System.out.printf(Locale.ROOT, "[%s] %d streams: %d completed, %d errors, TTFT p99 %.1f ms, inter-token p99 %.1f ms%n", row.name, n,
                stats.ok.get(), stats.errors.get(), ms(stats.timeToFirstToken, 99), ms(stats.interToken, 99));
        return new StreamResult(stats, heapMax.get() / 1048576.0);
    }

    private static double ms(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    private static String f(double value, String format) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, format, value);
    }

    private void table(List<Row> rows, Row direct, List<Integer> streamCounts) {
        print("## Small requests");
        print("");
        print("| target | saturation req/s | CPU s / 1,000 req | peak RSS MiB | load req/s | p50 / p99 / p99.9 ms | added p50 / p99 / p99.9 ms over direct | errors |");
        print("|---|---:|---:|---:|---:|---|---|---:|");
        LoadGenerator.Stats base = direct.atHalf;
        for (Row row : rows) {
            LoadGenerator.Stats s = row.atHalf;
            String added = row == direct ? "–" : f(ms(s.latency, 50) - ms(base.latency, 50), "%.2f") + " / "
                    + f(ms(s.latency, 99) - ms(base.latency, 99), "%.2f") + " / " + f(ms(s.latency, 99.9) - ms(base.latency, 99.9), "%.2f");
            print("| " + row.name + " | " + f(row.saturation, "%.0f") + " | " + (row == direct ? "(upstream) " : "")
                    + f(row.cpuPerThousand, "%.3f") + " | " + f(Procs.peakRssMib(servers.get(row.process)), "%.0f") + " | "
                    + f(row.loadRate, "%.0f") + " | " + f(ms(s.latency, 50), "%.2f") + " / " + f(ms(s.latency, 99), "%.2f") + " / "
                    + f(ms(s.latency, 99.9), "%.2f") + " | " + added + " | " + (s.errors.get() + s.dropped.get()) + " |");
        }
        print("");
        print("## Streams (256 tokens, 20 ms apart)");
        print("");
        print("| target | streams | completed | TTFT p50 / p99 ms | added TTFT p99 ms | inter-token p50 / p99 / p99.9 ms | added inter-token p99 ms | errors | gateway heap max MiB |");
        print("|---|---:|---:|---|---:|---|---:|---:|---:|");
        for (int n : streamCounts) {
            StreamResult baseline = direct.streams.get(n);
            for (Row row : rows) {
                StreamResult r = row.streams.get(n);
                if (r == null) {
                    continue;
                }
                LoadGenerator.Stats s = r.stats();
                print("| " + row.name + " | " + n + " | " + s.ok.get() + " | " + f(ms(s.timeToFirstToken, 50), "%.1f") + " / "
                        + f(ms(s.timeToFirstToken, 99), "%.1f") + " | "
                        + (row == direct ? "–" : f(ms(s.timeToFirstToken, 99) - ms(baseline.stats().timeToFirstToken, 99), "%.1f")) + " | "
                        + f(ms(s.interToken, 50), "%.2f") + " / " + f(ms(s.interToken, 99), "%.2f") + " / " + f(ms(s.interToken, 99.9), "%.2f")
                        + " | " + (row == direct ? "–" : f(ms(s.interToken, 99) - ms(baseline.stats().interToken, 99), "%.2f")) + " | "
                        + s.errors.get() + " | " + (row.name.startsWith("tollgate") ? f(r.heapMaxMib(), "%.0f") : "–") + " |");
            }
        }
        print("");
        Row nginx = rows.stream().filter(r -> r.name.equals("nginx")).findFirst().orElse(null);
        Row portkey = rows.stream().filter(r -> r.name.equals("portkey")).findFirst().orElse(null);
        Row tollgate = rows.stream().filter(r -> r.name.equals("tollgate")).findFirst().orElseThrow();
        print("## Ratios (same run)");
        print("");
        if (nginx != null) {
            print("- Tollgate / nginx saturation: " + f(tollgate.saturation / nginx.saturation, "%.2f") + " (target ≥ 0.80)");
        }
        if (portkey != null) {
            print("- Tollgate / Portkey saturation: " + f(tollgate.saturation / portkey.saturation, "%.1f") + "x (target ≥ 20x)");
        }
        Row spool = rows.getLast();
        print("- Tollgate with Kafka down / with Kafka: " + f(spool.saturation / tollgate.saturation, "%.2f") + "; " + f(spool.spooledBytes / 1e6, "%.1f")
                + " MB of usage events waiting in the spool at the end");
    }
}
