package dev.tollgate.bench;

import dev.tollgate.schemas.key.ApiKeys;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Small requests at line rate, with a harness that is not the bottleneck (issue #17): the load
 * generator is {@code wrk} and the model server is nginx answering a canned completion, both pinned
 * with {@code taskset} to the harness core, with the Kafka node; the proxy under test (nginx as a
 * reverse proxy, or Tollgate with everything on) is pinned alone to the other core. Each row is
 * measured after a warm-up, and prints the proxy's CPU per request beside the harness's own, so a
 * reader can see which side ran out. Rows: direct (wrk to the canned upstream), nginx, Tollgate,
 * Tollgate with Kafka down. Latency at saturation and at a light load (4 connections) from wrk.
 * Tollgate runs with everything on: key authentication, rate limits, usage events through the disk
 * spool to Kafka, spans, metrics and a JSON access-log line per request (to its log file). A JVM on one
 * core compiles for about a minute: warm up for 60 s before believing its row.
 */
public final class LineRateBench {
    private static final String BODY = "{\"model\":\"fake-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],\"max_tokens\":16}";
    /** What the canned model server answers: a whole chat completion with its usage. */
    private static final String ANSWER = "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"fake-chat\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello! How can I help you today?\"},"
            + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":9,\"total_tokens\":18}}";
    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern TOTAL = Pattern.compile("([0-9]+) requests in");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: ([0-9]+)");
    private static final Pattern ERRORS = Pattern.compile("Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)");

    private final BenchProcesses servers;
    private final Path work;
    private final StringBuilder report = new StringBuilder();
    private String harnessCore;
    private String proxyCore;

    private LineRateBench(BenchProcesses servers) {
        this.servers = servers;
        this.work = servers.work();
    }

    public static void main(String[] args) throws Exception {
        try (var servers = new BenchProcesses("tollgate-line-rate")) {
            new LineRateBench(servers).run(BenchProcesses.options(args));
        }
        System.exit(0);
    }

    private record Measured(String row, double rate, long requests, long failed, double proxyCpuUsPerRequest,
                            double harnessCpuUsPerRequest, double harnessCores, double proxyCores, String p50, String p99,
                            String lightP50, String lightP99) {}

    private void run(Map<String, String> options) throws Exception {
        int seconds = Integer.parseInt(options.getOrDefault("seconds", "10"));
        int warmUp = Integer.parseInt(options.getOrDefault("warm-up-seconds", "60"));
        int connections = Integer.parseInt(options.getOrDefault("connections", "32"));
        harnessCore = options.getOrDefault("harness-core", "0");
        proxyCore = options.getOrDefault("proxy-core", "1");
        String loops = options.getOrDefault("event-loops", Integer.toString(proxyCore.split("[,-]").length));

        int upstreamPort = Procs.freePort();
        int nginxPort = Procs.freePort();
        servers.nginx("upstream", harnessCore, """
                server { listen 127.0.0.1:%d backlog=4096;
                  location / { default_type application/json; return 200 '%s'; } }
                """.formatted(upstreamPort, ANSWER));
        servers.nginx("nginx", proxyCore, """
                upstream model { server 127.0.0.1:%d; keepalive 256; }
                server { listen 127.0.0.1:%d backlog=4096; location / { proxy_pass http://model; proxy_http_version 1.1;
                  proxy_set_header Connection ""; proxy_buffering off; } }
                """.formatted(upstreamPort, nginxPort));
        String upstream = "http://127.0.0.1:" + upstreamPort;
        Procs.awaitUp(upstream + "/v1/models", Duration.ofSeconds(30), Map.of());
        Procs.awaitUp("http://127.0.0.1:" + nginxPort + "/v1/models", Duration.ofSeconds(30), Map.of());

        String bootstrap = servers.kafka(harnessCore);
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        BenchTenant.seed(bootstrap, key);

        String upstreamsYaml = """
                pools:
                  small:
                    ejection: {afterFailures: 1000000, forMs: 1000}
                    endpoints: [{url: "%s", maxConcurrency: 100000, maxQueued: 100000}]
                models:
                  fake-chat: {pool: small}
                """.formatted(upstream);
        var jvm = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseG1GC"));
        if (options.containsKey("gateway-jfr")) {
            jvm.add("-XX:StartFlightRecording=filename=" + options.get("gateway-jfr") + ",settings=profile,dumponexit=true");
        }
        String tollgate = servers.tollgate(proxyCore, upstreamsYaml, bootstrap, loops, jvm);
        Procs.awaitUp(tollgate + "/v1/models", Duration.ofSeconds(60), Map.of("authorization", "Bearer " + key.token()));

        Path script = work.resolve("post.lua");
        Files.writeString(script, """
                wrk.method = "POST"
                wrk.body = '%s'
                wrk.headers["Content-Type"] = "application/json"
                wrk.headers["Authorization"] = "Bearer %s"
                """.formatted(BODY, key.token()));

        print("# Line-rate run " + Instant.now());
        print("");
        print("Machine: " + Runtime.getRuntime().availableProcessors() + " cores. Harness (wrk -t1, the canned nginx model server, "
                + "the Kafka node) on core " + harnessCore + "; the proxy under test alone on core " + proxyCore + " (Tollgate with "
                + loops + " event loop(s)). " + connections + " connections, " + seconds + " s per measurement after " + warmUp
                + " s of warm-up; light load = 4 connections.");
        print("");
        List<Measured> rows = new ArrayList<>();
        rows.add(measure("direct", upstream, null, script, connections, seconds, warmUp));
        rows.add(measure("nginx", "http://127.0.0.1:" + nginxPort, servers.get("nginx"), script, connections, seconds, warmUp));
        rows.add(measure("tollgate", tollgate, servers.get("tollgate"), script, connections, seconds, warmUp));
        ProcessHandle broker = servers.get("kafka");
        broker.destroy();
        broker.onExit().get(60, TimeUnit.SECONDS);
        Thread.sleep(2_000);
        rows.add(measure("tollgate, Kafka down", tollgate, servers.get("tollgate"), script, connections, seconds, 3));

        Measured nginx = rows.get(1);
        print("| row | req/s | vs nginx | failed | proxy CPU µs/req | vs nginx | proxy cores | harness CPU µs/req | harness cores "
                + "| p50 / p99 at saturation | p50 / p99 at 4 connections |");
        print("|---|---|---|---|---|---|---|---|---|---|---|");
        for (Measured m : rows) {
            boolean proxied = !m.row.equals("direct");
            print("| " + m.row + " | " + f(m.rate, "%,.0f") + " | " + (proxied ? f(m.rate / nginx.rate, "%.2f") : "—") + " | " + m.failed
                    + " | " + (proxied ? f(m.proxyCpuUsPerRequest, "%.1f") : "—") + " | "
                    + (proxied ? f(m.proxyCpuUsPerRequest / nginx.proxyCpuUsPerRequest, "%.1fx") : "—") + " | "
                    + (proxied ? f(m.proxyCores, "%.2f") : "—") + " | " + f(m.harnessCpuUsPerRequest, "%.1f") + " | "
                    + f(m.harnessCores, "%.2f") + " | " + m.p50 + " / " + m.p99 + " | " + m.lightP50 + " / " + m.lightP99 + " |");
        }
        Path out = Path.of(options.getOrDefault("out", "bench/results/line-rate.md"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("written to " + out);
    }

    /** Warm-up, then a saturation run with CPU accounting, then a light-load run for latency. */
    private Measured measure(String row, String base, ProcessHandle proxy, Path script, int connections, int seconds, int warmUp)
            throws Exception {
        String url = base + "/v1/chat/completions";
        if (warmUp > 0) {
            wrk(script, url, connections, warmUp);
        }
        List<ProcessHandle> harness = new ArrayList<>();
        harness.add(servers.get("upstream"));
        if (servers.get("kafka").isAlive()) {
            harness.add(servers.get("kafka"));
        }
        double proxyBefore = proxy == null ? 0 : Procs.cpuSeconds(proxy);
        double harnessBefore = harness.stream().mapToDouble(Procs::cpuSeconds).sum();
        long started = System.nanoTime();
        Wrk saturated = wrk(script, url, connections, seconds);
        double wall = (System.nanoTime() - started) / 1e9;
        double proxyCpu = proxy == null ? 0 : Procs.cpuSeconds(proxy) - proxyBefore;
        double harnessCpu = harness.stream().mapToDouble(Procs::cpuSeconds).sum() - harnessBefore + saturated.cpuSeconds;
        Wrk light = wrk(script, url, 4, seconds);
        Measured m = new Measured(row, saturated.rate, saturated.requests, saturated.failed, proxyCpu / saturated.requests * 1e6,
                harnessCpu / saturated.requests * 1e6, harnessCpu / wall, proxyCpu / wall, saturated.p50, saturated.p99, light.p50,
                light.p99);
        print("- " + row + ": " + f(m.rate, "%,.0f") + " req/s, " + m.requests + " requests, " + m.failed + " failed; proxy "
                + f(m.proxyCores, "%.2f") + " cores, harness " + f(m.harnessCores, "%.2f") + " cores (wrk "
                + f(saturated.cpuSeconds / wall, "%.2f") + ")");
        return m;
    }

    private record Wrk(double rate, long requests, long failed, String p50, String p99, double cpuSeconds) {}

    private Wrk wrk(Path script, String url, int connections, int seconds) throws Exception {
        Path log = work.resolve("wrk.log");
        Process process = Procs.start(BenchProcesses.pinned(harnessCore, List.of("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--latency",
                "--timeout", "5s", "-s", script.toString(), url)), Map.of(), log);
        double cpu = 0;
        while (process.isAlive()) {
            cpu = Math.max(cpu, Procs.cpuSeconds(process.toHandle()));
            Thread.sleep(100);
        }
        String out = Files.readString(log);
        Matcher rate = RATE.matcher(out);
        Matcher total = TOTAL.matcher(out);
        if (!rate.find() || !total.find()) {
            throw new IllegalStateException("wrk said: " + out);
        }
        long failed = 0;
        Matcher non2xx = NON_2XX.matcher(out);
        if (non2xx.find()) {
            failed += Long.parseLong(non2xx.group(1));
        }
        Matcher errors = ERRORS.matcher(out);
        if (errors.find()) {
            for (int g = 1; g <= 4; g++) {
                failed += Long.parseLong(errors.group(g));
            }
        }
        return new Wrk(Double.parseDouble(rate.group(1)), Long.parseLong(total.group(1)), failed, percentile(out, "50%"),
                percentile(out, "99%"), cpu);
    }

    private static String percentile(String wrkOutput, String label) {
        Matcher m = Pattern.compile("^\\s*" + Pattern.quote(label) + "\\s+(\\S+)", Pattern.MULTILINE).matcher(wrkOutput);
        return m.find() ? m.group(1) : "?";
    }

    private void print(String line) {
        System.out.println(line);
        report.append(line).append('\n');
    }

    private static String f(double value, String format) {
        return String.format(Locale.ROOT, format, value);
    }
}
