package dev.tollgate.ledger.bench;

import dev.tollgate.ledger.LedgerApplication;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.testkit.kafka.SharedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Benchmark (not a test): API key issuance and rotation through the admin API over HTTP, with the
 * whole ledger running (PostgreSQL event store, Kafka publishing). Prints commands/s and latency
 * percentiles. Run with {@code bench/ledger-keys.sh [requests] [concurrency] [tenants]}.
 */
public final class KeyIssuanceBenchmark {
    private KeyIssuanceBenchmark() {}

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int tenants = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        try (PostgresDatabase database = PostgresDatabase.create("ledger_bench")) {
            ConfigurableApplicationContext app = new SpringApplication(LedgerApplication.class).run(
                    "--server.port=0", "--spring.datasource.url=" + database.jdbcUrl(),
                    "--spring.datasource.username=" + database.user(), "--spring.datasource.password=" + database.password(),
                    "--tollgate.kafka.bootstrap-servers=" + SharedKafka.get().bootstrapServers(),
                    "--tollgate.jwt.hs256-secret=" + LedgerTestSupport.JWT_SECRET, "--tollgate.jwt.issuer=" + LedgerTestSupport.ISSUER,
                    "--tollgate.jwt.audience=" + LedgerTestSupport.AUDIENCE,
                    "--tollgate.webhook-master-key=" + LedgerTestSupport.WEBHOOK_MASTER_KEY, "--logging.level.root=WARN");
            try {
                String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
                String token = LedgerTestSupport.token("bench", List.of("platform-admin"), null);
                HttpClient http = HttpClient.newHttpClient();
                for (int t = 0; t < tenants; t++) {
                    send(http, base + "/admin/v1/tenants", token, "{\"tenantId\":\"bench-" + t + "\",\"name\":\"Bench " + t + "\"}").join();
                }
                System.out.printf("%d tenant(s)%n", tenants);
                List<String> keyIds = new ArrayList<>();
                run("warm-up issue", http, Math.min(200, requests), concurrency, i -> send(http, base + "/admin/v1/tenants/bench-" + (i % tenants) + "/keys", token, "{\"name\":\"w\"}"), null);
                run("issue", http, requests, concurrency, i -> send(http, base + "/admin/v1/tenants/bench-" + (i % tenants) + "/keys", token, "{\"name\":\"k" + i + "\"}"), keyIds);
                run("rotate", http, keyIds.size(), concurrency, i -> send(http, base + "/admin/v1/keys/" + keyIds.get(i) + ":rotate", token,
                        "{\"gracePeriodSeconds\":3600}"), null);
            } finally {
                app.close();
            }
        }
        System.exit(0);
    }

    private interface Call {
        CompletableFuture<HttpResponse<String>> start(int index);
    }

    private static void run(String name, HttpClient http, int requests, int concurrency, Call call, List<String> keyIds) throws Exception {
        long[] latencies = new long[requests];
        var permits = new Semaphore(concurrency);
        var failures = new AtomicInteger();
        var all = new ArrayList<CompletableFuture<?>>();
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            permits.acquire();
            int index = i;
            long sent = System.nanoTime();
            all.add(call.start(i).whenComplete((response, error) -> {
                latencies[index] = System.nanoTime() - sent;
                if (error != null || response.statusCode() >= 300) {
                    failures.incrementAndGet();
                } else if (keyIds != null) {
                    synchronized (keyIds) {
                        keyIds.add(response.body().replaceAll(".*\"keyId\":\"([^\"]+)\".*", "$1"));
                    }
                }
                permits.release();
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        double seconds = (System.nanoTime() - start) / 1e9;
        Arrays.sort(latencies);
        System.out.printf("%-14s %6d requests, concurrency %3d: %8.1f commands/s  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  failures %d%n",
                name, requests, concurrency, requests / seconds, pct(latencies, 0.50), pct(latencies, 0.99),
                latencies[latencies.length - 1] / 1e6, failures.get());
    }

    private static double pct(long[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
    }

    private static CompletableFuture<HttpResponse<String>> send(HttpClient http, String url, String token, String json) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(json))
                .header("content-type", "application/json").header("authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
