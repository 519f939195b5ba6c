package dev.tollgate.devstack;

import com.sun.management.OperatingSystemMXBean;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Rate-limit shares that follow the live fleet and the traffic (ADR 0020), measured through real
 * gateway replicas that hear each other's heartbeats, in one JVM with the ledger and the fake
 * upstream. Each scenario gives two fresh tenants (one with a requests-per-minute limit, one with a
 * tokens-per-minute limit) a burst that empties their buckets, then 25 % more traffic than they
 * bought, split over the replicas as the scenario says; it prints what they got in the measured
 * window against what they bought, and the whole run's total against the bound of ADR 0020
 * ({@code limit + limit × t/60}, plus 5 % of the limit for replicas that hear a change at different
 * moments).
 */
class FleetSharesEndToEndIT {
    private static final String DATABASE = "tg_fleet_it_" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final long RPM = 600;
    private static final double OFFERED = 1.25;
    private static final int COMPLETION_TOKENS = 5;

    @TempDir
    static Path dataDir;
    private static DevStack stack;
    private static UpstreamConfig upstreams;
    private static final List<LocalGateway> gateways = new CopyOnWriteArrayList<>();
    private static int started;

    @BeforeAll
    static void start() throws Exception {
        stack = DevStack.start(DevOptions.of("data-dir", dataDir.toString(), "kafka-port", "0", "upstream-port", "0", "ledger-port", "0",
                "gateway-port", "0", "console-port", "0", "idp-port", "0", "billing-port", "0", "ledger-database", DATABASE, "billing-database", DATABASE + "_billing",
                "ttft-ms", "0", "inter-token-ms", "0", "completion-tokens", Integer.toString(COMPLETION_TOKENS)));
        upstreams = LocalGateway.fakeUpstreams(stack.upstreamUrl(), DevStack.FAKE_MODELS);
        for (int i = 0; i < 3; i++) {
            gateways.add(startGateway());
        }
        awaitFleet();
    }

    /** Every replica hears the others: these and the dev stack's own gateway (idle here, but live: it holds its floor shares). */
    private static void awaitFleet() {
        await().atMost(Duration.ofSeconds(20)).until(() -> gateways.stream().allMatch(g -> g.fleet().size() == gateways.size() + 1
                && g.fleet().peers().size() == gateways.size()));
    }

    private static LocalGateway startGateway() throws Exception {
        int n = started++;
        return LocalGateway.start(0, stack.kafkaBootstrapServers(), upstreams, dataDir.resolve("spool-" + n), "fleet-gw-" + n, 3);
    }

    @AfterAll
    static void stop() throws Exception {
        for (LocalGateway gateway : gateways) {
            gateway.close();
        }
        if (stack != null) {
            stack.close();
        }
        BilledUsage.dropDatabases(PostgresDatabase.Server.fromEnvironment(), DATABASE, DATABASE + "_billing");
    }

    /** A tenant with {@code limits} (JSON) and a key that every live replica knows; returns the key. */
    private static String tenantWithKey(String prefix, String limits) throws Exception {
        String tenant = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        String apiKey = StackAdmin.tenantWithKey(stack, tenant, limits);
        // Every replica knows the key before the run (an unknown key is a 401, which uses nothing).
        for (LocalGateway gateway : gateways) {
            await().atMost(Duration.ofSeconds(30)).until(() -> HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url() + "/v1/models"))
                    .header("authorization", "Bearer " + apiKey).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        }
        return apiKey;
    }

    private static CompletableFuture<HttpResponse<String>> send(LocalGateway gateway, String model, String apiKey) {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":" + COMPLETION_TOKENS + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create(gateway.url() + "/v1/chat/completions"))
                .header("authorization", "Bearer " + apiKey).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** What one tenant got: every admitted request's time and tokens. */
    private static final class Tally {
        final String apiKey;
        final List<long[]> admitted = new CopyOnWriteArrayList<>(); // {nanos, total tokens}
        final AtomicLong refused = new AtomicLong();
        final AtomicLong failed = new AtomicLong();

        Tally(String apiKey) {
            this.apiKey = apiKey;
        }

        void record(HttpResponse<String> response, Throwable error) {
            if (error != null) {
                failed.incrementAndGet(); // a replica stopping mid-request
            } else if (response.statusCode() == 200) {
                long tokens;
                try {
                    tokens = EventCodec.mapper().readTree(response.body()).path("usage").path("total_tokens").asLong();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                admitted.add(new long[] {System.nanoTime(), tokens});
            } else if (response.statusCode() == 429) {
                refused.incrementAndGet();
            } else {
                failed.incrementAndGet();
            }
        }

        long requests(long from, long to) {
            return admitted.stream().filter(a -> a[0] >= from && a[0] < to).count();
        }

        long tokens(long from, long to) {
            return admitted.stream().filter(a -> a[0] >= from && a[0] < to).mapToLong(a -> a[1]).sum();
        }
    }

    /** Traffic split over the live replicas, as weights in the order of {@link #gateways}. */
    private interface Split {
        double[] weights(int replicas);
    }

    /**
     * Runs one scenario: a burst of 1.3 × the limit in the split's proportions, then {@code seconds} of
     * {@code OFFERED × limit} paced, calling {@code during} once a second with the elapsed seconds. Returns
     * {RPM ratio, TPM ratio} over the last {@code measured} seconds.
     */
    private double[] run(String name, Split split, int seconds, int measured, IntConsumer during) throws Exception {
        String rpmKey = tenantWithKey("fleet-rpm", "{\"requestsPerMinute\":" + RPM + "}");
        // Tokens per request, from one answer: the TPM tenant buys as many tokens a minute as RPM requests use.
        HttpResponse<String> probe = send(gateways.getFirst(), "fake-chat", rpmKey).get();
        long tokensPerRequest = EventCodec.mapper().readTree(probe.body()).path("usage").path("total_tokens").asLong();
        long tpm = RPM * tokensPerRequest;
        String tpmKey = tenantWithKey("fleet-tpm", "{\"tokensPerMinute\":" + tpm + "}");
        var byRequests = new Tally(rpmKey);
        var byTokens = new Tally(tpmKey);
        long cpuBefore = ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class).getProcessCpuTime();
        long begin = System.nanoTime();

        // The burst: empties the buckets (they start with a minute of capacity), in the scenario's split.
        var burst = new ArrayList<CompletableFuture<?>>();
        int burstSize = (int) (RPM * 1.3);
        double[] w = split.weights(gateways.size());
        for (int i = 0; i < burstSize; i++) {
            LocalGateway gateway = pick(w, i);
            burst.add(send(gateway, "fake-chat", rpmKey).whenComplete(byRequests::record));
            burst.add(send(gateway, "fake-chat", tpmKey).whenComplete(byTokens::record));
            if (i % 64 == 63) {
                CompletableFuture.allOf(burst.toArray(CompletableFuture[]::new)).get();
                burst.clear();
            }
        }
        CompletableFuture.allOf(burst.toArray(CompletableFuture[]::new)).get();
        long paced = System.nanoTime();

        // Paced: OFFERED × the limit, each request to a replica drawn by the split (deterministic interleaving).
        double perSecond = OFFERED * RPM / 60.0;
        long intervalNanos = (long) (1e9 / perSecond);
        var inFlight = new ArrayList<CompletableFuture<?>>();
        int sent = 0;
        int lastSecond = -1;
        while (System.nanoTime() - paced < seconds * 1_000_000_000L) {
            int second = (int) ((System.nanoTime() - paced) / 1_000_000_000L);
            if (second != lastSecond) {
                lastSecond = second;
                during.accept(second);
                w = split.weights(gateways.size());
            }
            LocalGateway gateway = pick(w, sent);
            inFlight.add(send(gateway, "fake-chat", rpmKey).whenComplete(byRequests::record));
            inFlight.add(send(gateway, "fake-chat", tpmKey).whenComplete(byTokens::record));
            sent++;
            long next = paced + sent * intervalNanos;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            }
        }
        long end = System.nanoTime();
        CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).handle((v, e) -> null).get();
        double cpu = (ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class).getProcessCpuTime() - cpuBefore) / 1e9;

        long from = end - measured * 1_000_000_000L;
        double window = measured / 60.0;
        double rpmRatio = byRequests.requests(from, end) / (RPM * window);
        double tpmRatio = byTokens.tokens(from, end) / (tpm * window);
        double total = (end - begin) / 1e9;
        long rpmBound = (long) (RPM + RPM * total / 60 + RPM * 0.05);
        long tpmBound = (long) (tpm + tpm * total / 60 + tpm * 0.05);
        long rpmTotal = byRequests.requests(begin, Long.MAX_VALUE);
        long tpmTotal = byTokens.tokens(begin, Long.MAX_VALUE);
        System.out.printf("[fleet] %s: last %d s of %d s paced at %.2f x the limit: %.1f %% of %d RPM (%d refused), %.1f %% of %,d TPM "
                        + "(%d refused); whole run %.1f s: %d requests (bound %d), %,d tokens (bound %,d); failed %d; JVM CPU %.1f s "
                        + "(gateways, ledger, Kafka and this harness share it)%n",
                name, measured, seconds, OFFERED, rpmRatio * 100, RPM, byRequests.refused.get(), tpmRatio * 100, tpm, byTokens.refused.get(),
                total, rpmTotal, rpmBound, tpmTotal, tpmBound, byRequests.failed.get() + byTokens.failed.get(), cpu);
        assertThat(rpmTotal).as("%s: requests admitted in the whole run", name).isLessThanOrEqualTo(rpmBound);
        assertThat(tpmTotal).as("%s: tokens used in the whole run", name).isLessThanOrEqualTo(tpmBound);
        return new double[] {rpmRatio, tpmRatio};
    }

    /** The replica for the {@code i}-th request of {@code n}: a deterministic interleaving that follows the weights. */
    private static LocalGateway pick(double[] weights, int i) {
        double x = ((i * 0.618_033_988_75) % 1.0);
        double sum = 0;
        for (int g = 0; g < weights.length; g++) {
            sum += weights[g];
            if (x < sum) {
                return gateways.get(g);
            }
        }
        return gateways.getLast();
    }

    private static double[] even(int replicas) {
        double[] w = new double[replicas];
        Arrays.fill(w, 1.0 / replicas);
        return w;
    }

    @Test
    void aTenantGetsWhatItBoughtWhereverTheTrafficGoesAndWhenReplicasComeAndGo() throws Exception {
        double[] even = run("evenly balanced over 3 replicas", FleetSharesEndToEndIT::even, 25, 15, s -> {});
        double[] skewed = run("80 % on one replica of 3", r -> new double[] {0.8, 0.1, 0.1}, 25, 15, s -> {});

        // A replica added at 6 s, one removed at 14 s (the traffic follows the live ones).
        var failure = new AtomicReference<Exception>();
        var changes = new ArrayList<CompletableFuture<Void>>();
        double[] churn = run("replica added at 6 s, one removed at 14 s", FleetSharesEndToEndIT::even, 30, 24, second -> {
            if (second == 6) {
                changes.add(CompletableFuture.runAsync(() -> {
                    try {
                        gateways.add(startGateway()); // takes traffic once it listens and knows the keys
                    } catch (Exception e) {
                        failure.set(e);
                    }
                }));
            } else if (second == 14) {
                LocalGateway removed = gateways.removeFirst(); // no new traffic; then it stops and writes its tombstone
                changes.add(CompletableFuture.runAsync(() -> {
                    try {
                        removed.close();
                    } catch (Exception e) {
                        failure.set(e);
                    }
                }));
            }
        });
        CompletableFuture.allOf(changes.toArray(CompletableFuture[]::new)).get();
        assertThat(failure.get()).isNull();
        awaitFleet();

        for (double[] ratios : List.of(even, skewed, churn)) {
            assertThat(ratios[0]).as("share of the RPM bought").isGreaterThanOrEqualTo(0.9);
            assertThat(ratios[1]).as("share of the TPM bought").isGreaterThanOrEqualTo(0.9);
        }
    }
}
