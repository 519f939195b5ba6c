package dev.tollgate.gateway.bench;

import dev.tollgate.gateway.support.TestGateway;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.testkit.kafka.SharedKafka;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import com.sun.management.OperatingSystemMXBean;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The scheduling benchmarks of issue #23 (ADR 0023, ADR 0024), not tests: fake model servers with a
 * fixed service time behind one in-process gateway, and Java clients whose own cost is printed beside
 * the result. What is measured is waiting (hundreds of milliseconds), not CPU, so one JVM on 2 cores
 * is enough; compare rows of one run. Run with {@code bench/scheduling.sh [seconds]}.
 * <ol>
 *   <li><b>Noisy neighbour</b>: tenant A keeps 10x the pool's slots busy (closed loop, a pause of its
 *       {@code Retry-After} after a refusal), tenant B sends a steady open-loop stream at about a fifth of the capacity. B's TTFT with A
 *       idle, with A flooding a FIFO pool (the queue before ADR 0023), and with fair queuing; A's goodput.</li>
 *   <li><b>Priority</b>: the same flood in class {@code batch}, B in {@code interactive}.</li>
 *   <li><b>Prefix routing</b>: four servers with simulated prefix caches, multi-turn conversations of which
 *       half share one hot system prompt; hit rate, TTFT and throughput per routing policy.</li>
 * </ol>
 */
public final class SchedulingBenchmark {
    private static final long TTFT_MS = 250;
    private static final int TOKENS = 4;
    private static final long INTER_TOKEN_MS = 25;
    private static final long STEADY_INTERVAL_MS = 250;

    /** Concurrency of each of the two servers in the noisy-neighbour rows; the flood is 10x the pool's slots. */
    private final int slotsPerServer;
    private final String bootstrap = SharedKafka.get().bootstrapServers();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    private int tenants;

    private SchedulingBenchmark(int slotsPerServer) {
        this.slotsPerServer = slotsPerServer;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        String part = args.length > 1 ? args[1] : "all"; // all, queue or prefix
        int slots = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        new SchedulingBenchmark(slots).run(seconds, part);
        System.exit(0);
    }

    private void run(int seconds, String part) throws Exception {
        if (!part.equals("prefix")) {
            queueing(seconds);
        }
        if (!part.equals("queue")) {
            prefixRouting();
        }
    }

    private void queueing(int seconds) throws Exception {
        FakeBehaviour service = FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(TTFT_MS).withCompletionTokens(TOKENS)
                .withInterTokenDelayMs(INTER_TOKEN_MS);
        try (var one = FakeUpstream.start(0, List.of("m"), service); var two = FakeUpstream.start(0, List.of("m"), service)) {
            String endpoints = "[{url: \"" + one.baseUrl() + "\", maxConcurrency: " + slotsPerServer + ", maxQueued: " + 8 * slotsPerServer + "}, {url: \""
                    + two.baseUrl() + "\", maxConcurrency: " + slotsPerServer + ", maxQueued: " + 8 * slotsPerServer + "}]";
            long serviceMs = TTFT_MS + TOKENS * INTER_TOKEN_MS;
            System.out.printf(Locale.ROOT, "%n## Noisy neighbour and priority (%d s per row)%n%n", seconds);
            System.out.printf(Locale.ROOT, "Pool: 2 fake servers x %d slots, service time %d ms (TTFT %d ms + %d tokens x %d ms): capacity"
                    + " about %.1f req/s. B: one streamed request every %d ms (open loop). A: %d closed-loop workers (10x the slots),"
                    + " 1 s pause after a refusal (its Retry-After), 1 to 8 tokens per request.%n%n", slotsPerServer, serviceMs, TTFT_MS, TOKENS, INTER_TOKEN_MS,
                    2.0 * slotsPerServer * 1000 / serviceMs, STEADY_INTERVAL_MS, 10 * 2 * slotsPerServer);
            System.out.println("| scenario | B TTFT p50 ms | B TTFT p99 ms | B max ms | B served / refused | A goodput req/s | A refused | JVM CPU s |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            // The JIT, the connections and Kafka's first batches settle here, under the heaviest load of the run.
            noisyNeighbour("(warm-up, not a result)", endpoints, "fair", "standard", "standard", true, Math.max(5, seconds / 4));
            Row idle = noisyNeighbour("B alone (A idle)", endpoints, "fair", "standard", "standard", false, seconds);
            Row fifo = noisyNeighbour("A floods, FIFO queue (before ADR 0023)", endpoints, "fifo", "standard", "standard", true, seconds);
            Row fair = noisyNeighbour("A floods, fair queuing, same class", endpoints, "fair", "standard", "standard", true, seconds);
            Row idleInteractive = noisyNeighbour("B alone, interactive", endpoints, "fair", "batch", "interactive", false, seconds);
            Row priority = noisyNeighbour("A floods in batch, B interactive", endpoints, "fair", "batch", "interactive", true, seconds);
            System.out.printf(Locale.ROOT, "%nB's p99 under the flood / B's p99 alone: FIFO %s (%d of %d of B's requests refused),"
                            + " fair %.2fx (target <= 1.5x). Work conserving: under fair queuing A got %.1f req/s, B %.1f, of about %.1f."
                            + " Interactive p99 under a batch flood minus alone: %.0f ms (target <= one service time, %d ms).%n",
                    Double.isNaN(fifo.p99) ? "n/a" : String.format(Locale.ROOT, "%.2fx", fifo.p99 / idle.p99), fifo.refused,
                    fifo.served + fifo.refused, fair.p99 / idle.p99, fair.floodGoodput, 1000.0 / STEADY_INTERVAL_MS,
                    2.0 * slotsPerServer * 1000 / serviceMs, priority.p99 - idleInteractive.p99, serviceMs);
        }
    }

    private record Row(double p50, double p99, int served, int refused, double floodGoodput) {}

    private Row noisyNeighbour(String name, String endpoints, String queueing, String floodClass, String steadyClass, boolean flood,
                               int seconds) throws Exception {
        int floodWorkers = 10 * 2 * slotsPerServer;
        ApiKeys.NewKey a = tenant(floodClass);
        ApiKeys.NewKey b = tenant(steadyClass);
        var config = UpstreamConfig.parse("pools: {p: {queueing: " + queueing + ", endpoints: " + endpoints + "}}\nmodels: {m: {pool: p}}\n");
        double cpuBefore = cpuSeconds();
        try (var gateway = TestGateway.start(bootstrap, config)) {
            var stop = new AtomicBoolean();
            var aServed = new AtomicInteger();
            var aRefused = new AtomicInteger();
            var workers = new ArrayList<Thread>();
            if (flood) {
                for (int i = 0; i < floodWorkers; i++) {
                    workers.add(Thread.ofVirtual().start(() -> {
                        while (!stop.get()) {
                            // A's requests vary in length (1 to 8 tokens), as real ones do: completions do not come in lockstep.
                            int status = ttft(gateway, a, "flood", null, 1 + ThreadLocalRandom.current().nextInt(8)).status;
                            if (status == 200) {
                                aServed.incrementAndGet();
                            } else {
                                aRefused.incrementAndGet();
                                sleep(1_000); // Retry-After: 1
                            }
                        }
                    }));
                }
                sleep(2_000); // the queue fills before B is measured
            }
            for (int i = 0; i < 5; i++) { // warm-up: connections and code paths of B's requests
                ttft(gateway, b, "warm-up", null);
            }
            int servedBefore = aServed.get();
            long start = System.nanoTime();
            var latencies = new ConcurrentLinkedQueue<Long>();
            var bRefused = new AtomicInteger();
            int requests = (int) (seconds * 1000L / STEADY_INTERVAL_MS);
            var done = new CountDownLatch(requests);
            var scheduler = Executors.newSingleThreadScheduledExecutor();
            for (int i = 0; i < requests; i++) { // open loop: sent on schedule whatever the answers do
                scheduler.schedule(() -> Thread.ofVirtual().start(() -> {
                    Sample sample = ttft(gateway, b, "steady", null);
                    if (sample.status == 200) {
                        latencies.add(sample.ttftNanos);
                    } else {
                        bRefused.incrementAndGet();
                    }
                    done.countDown();
                }), i * STEADY_INTERVAL_MS, TimeUnit.MILLISECONDS);
            }
            done.await(seconds + 60L, TimeUnit.SECONDS);
            double elapsed = (System.nanoTime() - start) / 1e9;
            int aGoodput = aServed.get() - servedBefore;
            stop.set(true);
            for (Thread worker : workers) {
                worker.join();
            }
            scheduler.shutdownNow();
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            var row = new Row(percentile(sorted, 50), percentile(sorted, 99), sorted.size(), bRefused.get(), aGoodput / elapsed);
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %d / %d | %.1f | %d | %.1f |%n", name, row.p50, row.p99,
                    sorted.isEmpty() ? 0 : sorted.getLast() / 1e6, sorted.size(), bRefused.get(), aGoodput / elapsed, aRefused.get(),
                    cpuSeconds() - cpuBefore);
            return row;
        }
    }

    private void prefixRouting() throws Exception {
        System.out.printf(Locale.ROOT, "%n## Prefix routing%n%n");
        FakeBehaviour service = FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(300).withCompletionTokens(4).withInterTokenDelayMs(10);
        var servers = new ArrayList<FakeUpstream>();
        for (int i = 0; i < 4; i++) {
            servers.add(FakeUpstream.start(0, List.of("m"), service));
        }
        String endpoints = servers.stream().map(s -> "{url: \"" + s.baseUrl() + "\", maxConcurrency: 8}").collect(Collectors.joining(", "));
        int conversations = 192;
        int turns = 8;
        int clients = 64;
        System.out.printf(Locale.ROOT, "4 fake servers, each a simulated prefix cache of %d blocks of 64 characters; a miss costs a TTFT of"
                + " 300 ms, a hit that share less. %d conversations of %d turns, %d users who pause 0.5 to 2 s between turns; half the conversations share one hot"
                + " 3,000-character system prompt, the others have their own of 1,000; a turn adds 200 characters from the user and"
                + " 600 from the assistant.%n%n", CACHE_BLOCKS, conversations, turns, clients);
        System.out.println("| policy | prefix-cache hit rate | TTFT p50 ms | TTFT p99 ms | throughput req/s | failed | seconds | JVM CPU s |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        try {
            servers.forEach(s -> s.setPrefixCacheBlocks(CACHE_BLOCKS));
            prefixRow("(warm-up, not a result)", "least-outstanding", endpoints, servers, conversations / 4, 2, clients);
            for (String policy : List.of("least-outstanding", "power-of-two", "prefix-aware")) {
                servers.forEach(s -> s.setPrefixCacheBlocks(CACHE_BLOCKS));
                prefixRow(policy, policy, endpoints, servers, conversations, turns, clients);
            }
        } finally {
            servers.forEach(FakeUpstream::close);
        }
    }

    private static final int CACHE_BLOCKS = 2_000;

    private void prefixRow(String name, String policy, String endpoints, List<FakeUpstream> servers, int conversations, int turns, int clients)
            throws Exception {
        ApiKeys.NewKey key = tenant("standard");
        var config = UpstreamConfig.parse("pools: {p: {policy: " + policy + ", endpoints: [" + endpoints + "]}}\nmodels: {m: {pool: p}}\n");
        double cpuBefore = cpuSeconds();
        try (var gateway = TestGateway.start(bootstrap, config)) {
            var work = new ConcurrentLinkedQueue<Integer>();
            for (int c = 0; c < conversations; c++) {
                work.add(c);
            }
            var latencies = new ConcurrentLinkedQueue<Long>();
            var failed = new AtomicInteger();
            long start = System.nanoTime();
            var threads = new ArrayList<Thread>();
            for (int i = 0; i < clients; i++) {
                threads.add(Thread.ofVirtual().uncaughtExceptionHandler((thread, error) -> {
                    failed.incrementAndGet(); // counted in the row, never silently dropped
                    error.printStackTrace();
                }).start(() -> {
                    Integer conversation;
                    while ((conversation = work.poll()) != null) {
                        JsonArray messages = new JsonArray().add(message("system", systemPrompt(conversation)));
                        var random = new Random(conversation);
                        for (int turn = 0; turn < turns; turn++) {
                            messages.add(message("user", words(random, 200)));
                            Sample sample = ttft(gateway, key, null, messages);
                            if (sample.status == 200) {
                                latencies.add(sample.ttftNanos);
                            } else {
                                failed.incrementAndGet();
                            }
                            messages.add(message("assistant", words(random, 600)));
                            // The user reads the answer and types (0.5 to 2 s): without this pause a closed loop sends
                            // the next turn the moment its endpoint frees a slot, which least-outstanding then picks again.
                            sleep(500 + random.nextInt(1_500));
                        }
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            long queries = 0;
            long hits = 0;
            for (FakeUpstream server : servers) {
                long[] qh = server.prefixCacheQueriesAndHits();
                queries += qh[0];
                hits += qh[1];
            }
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            System.out.printf(Locale.ROOT, "| %s | %.1f %% | %.0f | %.0f | %.1f | %d | %.0f | %.1f |%n", name, 100.0 * hits / Math.max(1, queries),
                    percentile(sorted, 50), percentile(sorted, 99), sorted.size() / elapsed, failed.get(), elapsed, cpuSeconds() - cpuBefore);
        }
    }

    private static String systemPrompt(int conversation) {
        if (conversation % 2 == 0) {
            return "You are the support assistant of a large accounting platform; answer precisely and cite the ledger rule. "
                    .repeat(30).substring(0, 3_000);
        }
        return words(new Random(1_000_000L + conversation), 1_000);
    }

    private static String words(Random random, int chars) {
        var text = new StringBuilder();
        while (text.length() < chars) {
            text.append((char) ('a' + random.nextInt(26))).append(random.nextInt(10) == 0 ? " " : "");
        }
        return text.substring(0, chars);
    }

    private static JsonObject message(String role, String content) {
        return new JsonObject().put("role", role).put("content", content);
    }

    private record Sample(int status, long ttftNanos) {}

    private Sample ttft(TestGateway gateway, ApiKeys.NewKey key, String content, JsonArray messages) {
        return ttft(gateway, key, content, messages, TOKENS);
    }

    /** One streamed request; its TTFT is the time to the response head, which the gateway sends with the first chunk. */
    private Sample ttft(TestGateway gateway, ApiKeys.NewKey key, String content, JsonArray messages, int tokens) {
        JsonObject body = new JsonObject().put("model", "m").put("stream", true).put("max_tokens", tokens)
                .put("messages", messages != null ? messages : new JsonArray().add(message("user", content)));
        long start = System.nanoTime();
        try {
            HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + key.token()).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofInputStream());
            long ttft = System.nanoTime() - start;
            try (InputStream in = response.body()) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            return new Sample(response.statusCode(), ttft);
        } catch (Exception e) {
            return new Sample(-1, System.nanoTime() - start);
        }
    }

    private ApiKeys.NewKey tenant(String priorityClass) throws Exception {
        String tenant = "sched-" + (++tenants) + "-" + System.nanoTime();
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        TestGateway.publish(bootstrap, new TenantState(tenant, tenant, TenantState.Status.ACTIVE, null, "UTC", "USD",
                new Limits(null, null, null, null, null, null, priorityClass, null), null, null, 1, now));
        TestGateway.publish(bootstrap, new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
        return key;
    }

    private static double percentile(List<Long> sorted, double percentile) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(percentile / 100 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index))) / 1e6;
    }

    /** CPU time of this whole JVM: gateway, fake servers, Kafka and clients share it (the rows measure waiting, not CPU). */
    private static double cpuSeconds() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
