package dev.tollgate.bench;

import dev.tollgate.schemas.key.ApiKeys;
import org.HdrHistogram.Histogram;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Concurrent SSE streams through each proxy with a harness that is not the bottleneck (issue #17).
 * This JVM is the load generator (a one-event-loop Vert.x client) and runs, with the fake model
 * servers and the Kafka node, on the harness core ({@code bench/streams.sh} pins it); the proxy under
 * test (nginx, Tollgate with everything on) runs alone on the other core. For N concurrent streams
 * the model server sends {@code --tokens} tokens per stream with a gap chosen so that all N together
 * make {@code --token-rate} tokens a second (the harness's work is the same at every N; what grows is
 * the number of connections, timers and streams the proxy holds). Streams start staggered over one
 * stream's length and are replaced as they end. Per row: tokens/s, the proxy's and the harness's CPU
 * per token, TTFT and inter-token percentiles and what the proxy adds to them over direct; for
 * Tollgate also the live heap (after a full GC) and RSS with N streams open, per 1,000 streams.
 */
public final class StreamsBench {
    /** Records the gateway's usage producer sent (the heartbeat producer's client id does not start so). */
    private static final String EVENTS_SENT = "kafka_producer_record_send_total{client_id=\"gateway-bench-gateway\"";
    /** C1 and C2 compiler threads, as {@link Procs#cpuSecondsByThread} groups them (digits dropped). */
    private static final String COMPILER_THREADS = "C CompilerThre";
    /** A JVM proxy is warm when its JIT compilers use less than this share of a core. */
    private static final double JIT_SETTLED_CORES = 0.05;
    private static final Pattern HEAP_USED = Pattern.compile("garbage-first heap\\s+total (?:reserved )?[0-9]+K, (?:committed [0-9]+K, )?used ([0-9]+)K");

    private final BenchProcesses servers;
    private final StringBuilder report = new StringBuilder();

    private StreamsBench(BenchProcesses servers) {
        this.servers = servers;
    }

    public static void main(String[] args) throws Exception {
        try (var servers = new BenchProcesses("tollgate-streams")) {
            new StreamsBench(servers).run(BenchProcesses.options(args));
        }
        System.exit(0);
    }

    private record Measured(String target, int streams, LoadGenerator.Stats stats, double proxyCpuUsPerToken,
                            double harnessCpuUsPerToken, double proxyCores, double harnessCores, double liveHeapMib, double rssMib,
                            String proxyThreads, double eventsPerSecond) {}

    private void run(Map<String, String> options) throws Exception {
        List<Integer> counts = Arrays.stream(options.getOrDefault("streams", "1000,5000,9000").split(","))
                .map(String::strip).map(Integer::parseInt).toList();
        int seconds = Integer.parseInt(options.getOrDefault("seconds", "30"));
        int warmUp = Integer.parseInt(options.getOrDefault("warm-up-seconds", "60"));
        int maxWarmUp = Integer.parseInt(options.getOrDefault("max-warm-up-seconds", "300"));
        int tokens = Integer.parseInt(options.getOrDefault("tokens", "64"));
        int tokenRate = Integer.parseInt(options.getOrDefault("token-rate", "15000"));
        List<String> targets = List.of(options.getOrDefault("targets", "direct,nginx,tollgate").split(","));
        String harnessCore = options.getOrDefault("harness-core", "0");
        String proxyCore = options.getOrDefault("proxy-core", "1");
        String loops = options.getOrDefault("event-loops", Integer.toString(proxyCore.split("[,-]").length));

        // One fake model server per stream count (each with its own token gap), one nginx server block and one
        // Tollgate pool in front of each. Connect timeouts of 60 s as nginx's default: with the default 2 s, a cold
        // gateway meeting thousands of new streams answered 502 for their first seconds while the model server, on the
        // busy harness core, was slow to accept.
        Map<Integer, String> upstreams = new LinkedHashMap<>();
        Map<Integer, Long> gapsMs = new LinkedHashMap<>();
        StringBuilder nginxServers = new StringBuilder();
        StringBuilder pools = new StringBuilder("pools:\n");
        StringBuilder models = new StringBuilder("models:\n");
        Map<Integer, Integer> nginxPorts = new LinkedHashMap<>();
        for (int n : counts) {
            long gap = Math.max(1, Math.round(n * 1000.0 / tokenRate));
            int port = Procs.freePort();
            servers.start("upstream-" + n, BenchProcesses.pinned(harnessCore, Procs.java("dev.tollgate.testkit.upstream.FakeUpstream",
                    List.of("-Xmx1g"), "--port", Integer.toString(port), "--models", model(n), "--completion-tokens", Integer.toString(tokens),
                    "--inter-token-ms", Long.toString(gap), "--stamp-tokens", "true")), Map.of());
            upstreams.put(n, "http://127.0.0.1:" + port);
            gapsMs.put(n, gap);
            int nginxPort = Procs.freePort();
            nginxPorts.put(n, nginxPort);
            nginxServers.append("""
                    upstream model%1$d { server 127.0.0.1:%2$d; keepalive 1024; }
                    server { listen 127.0.0.1:%3$d backlog=8192; location / { proxy_pass http://model%1$d; proxy_http_version 1.1;
                      proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 300s; } }
                    """.formatted(n, port, nginxPort));
            pools.append("""
                      p%d:
                        timeouts: {connectMs: 60000}
                        ejection: {afterFailures: 1000000, forMs: 1000}
                        endpoints: [{url: "http://127.0.0.1:%d", maxConcurrency: 100000, maxQueued: 100000}]
                    """.formatted(n, port));
            models.append("  ").append(model(n)).append(": {pool: p").append(n).append("}\n");
        }
        servers.nginx("nginx", proxyCore, nginxServers.toString());
        for (int n : counts) {
            Procs.awaitUp(upstreams.get(n) + "/v1/models", Duration.ofSeconds(60), Map.of());
            Procs.awaitUp("http://127.0.0.1:" + nginxPorts.get(n) + "/v1/models", Duration.ofSeconds(30), Map.of());
        }
        String bootstrap = servers.kafka(harnessCore);
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        BenchTenant.seed(bootstrap, key);
        var jvm = new ArrayList<>(List.of("-Xmx512m"));
        jvm.addAll(List.of(options.getOrDefault("gateway-gc", "-XX:+UseG1GC").split(" ")));
        if (options.containsKey("gateway-jfr")) {
            jvm.add("-XX:StartFlightRecording=filename=" + options.get("gateway-jfr") + ",settings=profile,dumponexit=true");
        }
        if (options.containsKey("gateway-java-options")) { // e.g. async-profiler's -agentpath
            jvm.addAll(List.of(options.get("gateway-java-options").split(" ")));
        }
        Map<String, String> gatewayEnv = new LinkedHashMap<>(); // e.g. --gateway-env TOLLGATE_STREAM_PROGRESS_MS=250,TOLLGATE_STREAM_PROGRESS_TOKENS=64
        for (String pair : options.getOrDefault("gateway-env", "").split(",")) {
            if (pair.contains("=")) {
                gatewayEnv.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
            }
        }
        String tollgate = servers.tollgate(proxyCore, pools + models.toString(), bootstrap, loops, jvm, gatewayEnv);
        Map<String, String> auth = Map.of("authorization", "Bearer " + key.token());
        Procs.awaitUp(tollgate + "/v1/models", Duration.ofSeconds(60), auth);

        print("# Streams run " + Instant.now());
        print("");
        print("Machine: " + Runtime.getRuntime().availableProcessors() + " core(s) visible to the load generator (pinned). Harness (this "
                + "load generator: one Vert.x event loop; the fake model servers; the Kafka node) on core " + harnessCore
                + "; the proxy under test alone on core " + proxyCore + " (Tollgate with " + loops + " event loop(s), 512 MiB heap). "
                + tokens + " tokens per stream; N streams together make " + tokenRate + " tokens/s (gap per stream: "
                + gapsMs.entrySet().stream().map(e -> e.getKey() + " → " + e.getValue() + " ms").toList() + "); streams start "
                + "staggered over one stream's length and are replaced as they end; each row is one continuous load: " + seconds
                + " s measured after at least " + warmUp + " s of warm-up, which for a JVM proxy lasts until its JIT compilers use less "
                + "than " + Math.round(JIT_SETTLED_CORES * 100) + " % of a core (at most " + maxWarmUp + " s)." + (gatewayEnv.isEmpty() ? "" : " Gateway environment: " + gatewayEnv + "."));
        print("");

        List<Measured> rows = new ArrayList<>();
        try (var load = new LoadGenerator(20_000)) {
            for (int n : counts) {
                Duration ramp = Duration.ofMillis(gapsMs.get(n) * tokens);
                var work = new LoadGenerator.Workload("/v1/chat/completions", """
                        {"model":"%s","stream":true,"messages":[{"role":"user","content":"Tell me a story"}],"max_tokens":%d}"""
                        .formatted(model(n), tokens), true);
                var direct = new LoadGenerator.Target("direct", upstreams.get(n), Map.of());
                var nginx = new LoadGenerator.Target("nginx", "http://127.0.0.1:" + nginxPorts.get(n), Map.of());
                var gateway = new LoadGenerator.Target("tollgate", tollgate, auth);
                if (targets.contains("direct")) {
                    rows.add(measure(load, direct, null, n, work, ramp, seconds, warmUp, maxWarmUp, null));
                }
                if (targets.contains("nginx")) {
                    rows.add(measure(load, nginx, servers.get("nginx"), n, work, ramp, seconds, warmUp, maxWarmUp, null));
                }
                if (targets.contains("tollgate")) {
                    rows.add(measure(load, gateway, servers.get("tollgate"), n, work, ramp, seconds, warmUp, maxWarmUp, tollgate));
                }
            }
        }
        table(rows);
        Path out = Path.of(options.getOrDefault("out", "bench/results/streams.md"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("written to " + out);
    }

    private static String model(int streams) {
        return "stream-" + streams;
    }

    /**
     * One continuous load of N streams: a warm-up of at least {@code warmUp} seconds that lasts, for a JVM proxy, until
     * its JIT compilers have settled (below {@link #JIT_SETTLED_CORES} of a core over 10 s, at most {@code maxWarmUp}
     * seconds); then the measured window with CPU accounting; for Tollgate then, with the N streams still open, the
     * memory reading (a full GC and the live heap): after the window, because G1 shrinks the heap after a full GC and
     * collects more often for a while. Nothing stops or starts between them.
     */
    private Measured measure(LoadGenerator load, LoadGenerator.Target target, ProcessHandle proxy, int n, LoadGenerator.Workload work,
                             Duration ramp, int seconds, int warmUp, int maxWarmUp, String gatewayBase) throws Exception {
        long minWarmMs = Math.max(warmUp, ramp.toSeconds() + 2) * 1000L;
        double[] memory = {Double.NaN, Double.NaN};
        double[] warmedSeconds = {Double.NaN};
        // this JVM alone (its descendants are the servers, the proxies among them), the model server, the Kafka node
        List<ProcessHandle> harness = List.of(ProcessHandle.current(), servers.get("upstream-" + n), servers.get("kafka"));
        var window = new Window(proxy, harness, gatewayBase);
        LoadGenerator.Stats stats = LoadGenerator.Stats.windowed();
        long loadStarted = System.nanoTime();
        Thread reader = Thread.ofPlatform().name("window-reader").start(() -> {
            try {
                Thread.sleep(minWarmMs);
                while (proxy != null && (System.nanoTime() - loadStarted) / 1e9 < maxWarmUp && compilerCores(proxy, 10) >= JIT_SETTLED_CORES) {
                    // still compiling: warm up longer
                }
                warmedSeconds[0] = (System.nanoTime() - loadStarted) / 1e9;
                window.start();
                stats.startWindow();
                Thread.sleep(seconds * 1000L);
                stats.endWindow();
                window.end();
                if (gatewayBase != null) {
                    memory[0] = liveHeapMib(proxy);
                    memory[1] = rssMib(proxy);
                }
            } catch (Exception e) {
                stats.endWindow(); // no reading: shown as –
            } finally {
                stats.stopLoad();
            }
        });
        load.closedLoop(target, work, n, ramp, stats);
        reader.join();
        double wall = window.wall;
        double proxyCpu = window.proxyCpu;
        String threads = window.threads;
        double eventsPerSecond = window.eventsPerSecond;
        double harnessCpu = window.harnessCpu;
        long tokens = Math.max(1, stats.tokens.get());
        var m = new Measured(target.name(), n, stats, proxyCpu / tokens * 1e6, harnessCpu / tokens * 1e6, proxyCpu / wall,
                harnessCpu / wall, memory[0], memory[1], threads, eventsPerSecond);
        print(String.format(Locale.ROOT, "- %s, %d streams: %,.0f tokens/s, %d streams completed, %d errors; proxy %.2f cores%s, harness %.2f cores",
                m.target, n, stats.tokens.get() / wall, stats.ok.get(), stats.errors.get(), m.proxyCores,
                threads.isEmpty() ? "" : " (" + threads + ")", m.harnessCores)
                + (Double.isNaN(eventsPerSecond) ? "" : f(eventsPerSecond, "; usage events sent to Kafka %,.0f/s"))
                + f(warmedSeconds[0], "; measured after %.0f s of warm-up"));
        print("  delivery (model server's write to this client's read) p50 / p99 / p99.9 / max: " + f(ms(stats.delivery, 50), "%.1f")
                + " / " + f(ms(stats.delivery, 99), "%.1f") + " / " + f(ms(stats.delivery, 99.9), "%.1f") + " / "
                + f(stats.delivery.getMaxValue() / 1000.0, "%.1f") + " ms; " + lateWindows(stats));
        return m;
    }

    /** The proxy's JIT compiler threads' share of a core over the next {@code seconds}. */
    private static double compilerCores(ProcessHandle proxy, int seconds) throws InterruptedException {
        double before = Procs.cpuSecondsByThread(proxy).getOrDefault(COMPILER_THREADS, 0.0);
        Thread.sleep(seconds * 1000L);
        return (Procs.cpuSecondsByThread(proxy).getOrDefault(COMPILER_THREADS, 0.0) - before) / seconds;
    }

    /** CPU and usage counters read at the start and the end of the measured window, while the load runs. */
    private static final class Window {
        private final ProcessHandle proxy;
        private final List<ProcessHandle> harness;
        private final String gatewayBase;
        private long started;
        private double proxyBefore;
        private double harnessBefore;
        private double eventsBefore;
        private Map<String, Double> threadsBefore = Map.of();
        double wall = Double.NaN;
        double proxyCpu = Double.NaN;
        double harnessCpu = Double.NaN;
        double eventsPerSecond = Double.NaN;
        String threads = "";

        Window(ProcessHandle proxy, List<ProcessHandle> harness, String gatewayBase) {
            this.proxy = proxy;
            this.harness = harness;
            this.gatewayBase = gatewayBase;
        }

        void start() throws Exception {
            started = System.nanoTime();
            proxyBefore = proxy == null ? 0 : Procs.cpuSeconds(proxy);
            threadsBefore = proxy == null ? Map.of() : Procs.cpuSecondsByThread(proxy);
            eventsBefore = gatewayBase == null ? Double.NaN : Procs.metric(gatewayBase, EVENTS_SENT);
            harnessBefore = harness.stream().mapToDouble(Procs::ownCpuSeconds).sum();
        }

        void end() throws Exception {
            wall = (System.nanoTime() - started) / 1e9;
            proxyCpu = proxy == null ? 0 : Procs.cpuSeconds(proxy) - proxyBefore;
            threads = proxy == null ? "" : byThread(threadsBefore, Procs.cpuSecondsByThread(proxy), wall);
            eventsPerSecond = gatewayBase == null ? Double.NaN : (Procs.metric(gatewayBase, EVENTS_SENT) - eventsBefore) / wall;
            harnessCpu = harness.stream().mapToDouble(Procs::ownCpuSeconds).sum() - harnessBefore;
        }
    }

    /**
     * Whether late tokens come together (every stream held at the same instants: something process-wide) or spread out
     * (single streams): the 100 ms windows, by when tokens were sent, with the most tokens later than 50 ms.
     */
    private static String lateWindows(LoadGenerator.Stats stats) {
        long windows = 0;
        long lateWindows = 0;
        List<int[]> worst = new ArrayList<>();
        for (int w = 0; w < stats.windowTokens.length(); w++) {
            long tokens = stats.windowTokens.get(w);
            if (tokens == 0) {
                continue;
            }
            windows++;
            long late = stats.windowLate.get(w);
            if (late * 10 > tokens) {
                lateWindows++;
            }
            if (late > 0) {
                worst.add(new int[] {w, (int) late, (int) tokens, (int) (stats.windowMax.get(w) / 1000)});
            }
        }
        worst.sort((a, b) -> Integer.compare(b[1], a[1]));
        return lateWindows + " of " + windows + " windows of 100 ms had more than 10 % of their tokens later than 50 ms; most late: "
                + worst.stream().limit(5).map(w -> String.format(Locale.ROOT, "t=%.1f s %d/%d late (max %d ms)", w[0] / 10.0, w[1], w[2], w[3]))
                .collect(Collectors.joining(", "));
    }

    /** The busiest thread groups' share of a core over the window, e.g. {@code "vert.x-eventloop-thread- 0.61, C CompilerThread 0.12"}. */
    private static String byThread(Map<String, Double> before, Map<String, Double> after, double wall) {
        return after.entrySet().stream().map(e -> Map.entry(e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0.0)) / wall))
                .filter(e -> e.getValue() >= 0.01).sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(6)
                .map(e -> e.getKey().strip() + " " + f(e.getValue(), "%.2f")).collect(Collectors.joining(", "));
    }

    /** The heap in use right after a full GC ({@code jcmd GC.run}, then {@code GC.heap_info}), in MiB. */
    private static double liveHeapMib(ProcessHandle proxy) throws Exception {
        long pid = javaPid(proxy);
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        new ProcessBuilder(jcmd, Long.toString(pid), "GC.run").redirectErrorStream(true).start().waitFor();
        Process info = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
        String text = new String(info.getInputStream().readAllBytes());
        info.waitFor();
        Matcher used = HEAP_USED.matcher(text);
        return used.find() ? Long.parseLong(used.group(1)) / 1024.0 : Double.NaN;
    }

    /** The JVM under {@code taskset}: the pinned command's own process or its child. */
    private static long javaPid(ProcessHandle proxy) {
        return proxy.descendants().filter(p -> p.info().command().orElse("").endsWith("java")).findFirst().orElse(proxy).pid();
    }

    private static double rssMib(ProcessHandle proxy) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(javaPid(proxy)), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    /** In place of a row that was not measured (--targets): every figure computed from it is NaN, shown as –. */
    private static final Measured NONE = new Measured("none", 0, new LoadGenerator.Stats(), Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, Double.NaN, "", Double.NaN);

    private void table(List<Measured> rows) {
        print("");
        print("| streams | target | tokens/s | errors | proxy CPU µs/token | vs nginx | harness CPU µs/token | harness cores "
                + "| TTFT p50 / p99 ms | added TTFT p99 | inter-token p50 / p99 / p99.9 ms | added inter-token p50 / p99 "
                + "| delivery p50 / p99 / p99.9 ms "
                + "| live heap / RSS MiB per 1,000 streams | usage events/s |");
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Measured m : rows) {
            Measured direct = rows.stream().filter(r -> r.streams == m.streams && r.target.equals("direct")).findFirst().orElse(NONE);
            Measured nginx = rows.stream().filter(r -> r.streams == m.streams && r.target.equals("nginx")).findFirst().orElse(NONE);
            boolean proxied = !m.target.equals("direct");
            LoadGenerator.Stats s = m.stats;
            double perThousand = m.streams / 1000.0;
            print("| " + m.streams + " | " + m.target + " | " + f(s.tokens.get() / s.seconds, "%,.0f") + " | " + s.errors.get() + " | "
                    + (proxied ? f(m.proxyCpuUsPerToken, "%.2f") : "—") + " | "
                    + (proxied ? f(m.proxyCpuUsPerToken / nginx.proxyCpuUsPerToken, "%.1fx") : "—") + " | "
                    + f(m.harnessCpuUsPerToken, "%.2f") + " | " + f(m.harnessCores, "%.2f") + " | "
                    + f(ms(s.timeToFirstToken, 50), "%.1f") + " / " + f(ms(s.timeToFirstToken, 99), "%.1f") + " | "
                    + (proxied ? f(ms(s.timeToFirstToken, 99) - ms(direct.stats.timeToFirstToken, 99), "%.1f") : "—") + " | "
                    + f(ms(s.interToken, 50), "%.1f") + " / " + f(ms(s.interToken, 99), "%.1f") + " / " + f(ms(s.interToken, 99.9), "%.1f")
                    + " | " + (proxied ? f(ms(s.interToken, 50) - ms(direct.stats.interToken, 50), "%.1f") + " / "
                    + f(ms(s.interToken, 99) - ms(direct.stats.interToken, 99), "%.1f") : "—") + " | "
                    + f(ms(s.delivery, 50), "%.1f") + " / " + f(ms(s.delivery, 99), "%.1f") + " / " + f(ms(s.delivery, 99.9), "%.1f") + " | "
                    + (Double.isNaN(m.liveHeapMib) ? "—" : f(m.liveHeapMib / perThousand, "%.1f") + " / " + f(m.rssMib / perThousand, "%.0f")
                    + " (" + f(m.liveHeapMib, "%.0f") + " / " + f(m.rssMib, "%.0f") + " in all)") + " | "
                    + (Double.isNaN(m.eventsPerSecond) ? "—" : f(m.eventsPerSecond, "%,.0f")) + " |");
        }
    }

    private static double ms(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    private void print(String line) {
        System.out.println(line);
        report.append(line).append('\n');
    }

    private static String f(double value, String format) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, format, value);
    }
}
