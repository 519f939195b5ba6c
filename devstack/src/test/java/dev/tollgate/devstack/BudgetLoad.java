package dev.tollgate.devstack;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static org.awaitility.Awaitility.await;

/**
 * Streaming clients on every gateway replica, at full speed, until a fleet-wide budget (a daily token
 * limit, a prepaid balance) is used up: half of them reserve {@code max_tokens}, half leave it open
 * (those streams get cut). The budget is used up when the projector has caught up (what it counts
 * stops moving for 3 s) while the replicas keep refusing; a lagging projector only makes the
 * replicas wait, it does not end the run. The quota tests of ADR 0009 and ADR 0027 share it.
 */
final class BudgetLoad {
    /** One client's call to a replica. */
    interface Call {
        HttpResponse<String> send(LocalGateway gateway, boolean reserveCompletion) throws Exception;
    }

    /** What the clients saw: answers (of which cut mid-stream), refusals, the last refusal, how long it took. */
    record Result(long served, long cut, long refused, HttpResponse<String> lastRefusal, double seconds) {}

    private BudgetLoad() {}

    /**
     * Runs the clients until the budget is used up (at most 90 s). {@code check} sees every answer that is not a refusal
     * ({@code refusalStatus}), {@code checkRefusal} every refusal; {@code used} is what the projector counts so far.
     */
    static Result untilUsedUp(List<LocalGateway> gateways, int clientsPerReplica, int refusalStatus, Call call,
                              Consumer<HttpResponse<String>> check, Consumer<HttpResponse<String>> checkRefusal, LongSupplier used)
            throws Exception {
        var served = new AtomicLong();
        var refused = new AtomicLong();
        var cut = new AtomicLong();
        var stop = new AtomicBoolean();
        var lastRefusal = new AtomicReference<HttpResponse<String>>();
        ExecutorService pool = Executors.newFixedThreadPool(gateways.size() * clientsPerReplica);
        var clients = new ArrayList<CompletableFuture<Void>>();
        long started = System.nanoTime();
        for (LocalGateway gateway : gateways) {
            for (int c = 0; c < clientsPerReplica; c++) {
                boolean reserveCompletion = c % 2 == 0;
                clients.add(CompletableFuture.runAsync(() -> {
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> response = call.send(gateway, reserveCompletion);
                            if (response.statusCode() == refusalStatus) {
                                checkRefusal.accept(response);
                                lastRefusal.set(response);
                                refused.incrementAndGet();
                                Thread.sleep(100);
                                continue;
                            }
                            check.accept(response);
                            served.incrementAndGet();
                            if (response.body().contains("insufficient_quota")) {
                                cut.incrementAndGet();
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }, pool));
            }
        }
        long lastUsed = -1;
        long lastChange = System.nanoTime();
        long refusedAtChange = 0;
        while (System.nanoTime() - started < Duration.ofSeconds(90).toNanos()) {
            Thread.sleep(500);
            long now = used.getAsLong();
            if (now != lastUsed) {
                lastUsed = now;
                lastChange = System.nanoTime();
                refusedAtChange = refused.get();
            } else if (System.nanoTime() - lastChange > Duration.ofSeconds(3).toNanos() && refused.get() > refusedAtChange + 20) {
                break;
            }
        }
        stop.set(true);
        CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get();
        pool.shutdown();
        return new Result(served.get(), cut.get(), refused.get(), lastRefusal.get(), (System.nanoTime() - started) / 1e9);
    }

    /** Waits until the projector has counted everything: {@code used} (negative while it has nothing) stops changing. */
    static void awaitSettled(LongSupplier used) {
        long[] previous = {-1};
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            long now = used.getAsLong();
            boolean stable = now >= 0 && now == previous[0];
            previous[0] = now;
            return stable;
        });
    }
}
