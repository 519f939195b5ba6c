package dev.tollgate.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP load generator fit for OpenAI-style SSE streams (non-blocking, Vert.x client, one
 * connection per request in flight). Two modes:
 * <ul>
 *   <li>{@link #openLoop}: requests start at a fixed arrival rate whatever the server does, and
 *       latency is measured from each request's <em>intended</em> start, so a stalled server shows as
 *       latency instead of fewer requests (no coordinated omission);</li>
 *   <li>{@link #closedLoop}: {@code concurrency} requests always in flight (the saturation rate, and
 *       N concurrent streams).</li>
 * </ul>
 * Per request: total latency; for streams also time to first token (first content chunk) and the
 * gap between consecutive content chunks (inter-token latency), each in an HdrHistogram (µs).
 */
public final class LoadGenerator implements AutoCloseable {
    /** What is called: {@code baseUrl + path}, with these headers. */
    public record Target(String name, String baseUrl, Map<String, String> headers) {}

    /** What is sent. */
    public record Workload(String path, String body, boolean stream) {}

    /** What one run measured (all times in microseconds). */
    public static final class Stats {
        public final Histogram latency = new ConcurrentHistogram(3_600_000_000L, 3);
        public final Histogram timeToFirstToken = new ConcurrentHistogram(3_600_000_000L, 3);
        public final Histogram interToken = new ConcurrentHistogram(3_600_000_000L, 3);
        public final AtomicLong ok = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong tokens = new AtomicLong();
        /** Requests an open loop could not even start on time because too many were outstanding. */
        public final AtomicLong dropped = new AtomicLong();
        public volatile double seconds;

        public double ratePerSecond() {
            return ok.get() / seconds;
        }
    }

    private final Vertx vertx;
    private final HttpClient client;

    public LoadGenerator(int maxConnections) {
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, Runtime.getRuntime().availableProcessors())));
        this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setMaxInitialLineLength(16 * 1024)
                .setIdleTimeout(120), new PoolOptions().setHttp1MaxSize(maxConnections).setMaxWaitQueueSize(-1));
    }

    /** {@code concurrency} requests in flight for {@code duration}. */
    public Stats closedLoop(Target target, Workload workload, int concurrency, Duration duration) throws InterruptedException {
        return closedLoop(target, workload, concurrency, duration, Duration.ZERO);
    }

    /**
     * {@code concurrency} requests in flight for {@code duration}, the first of each of them started
     * evenly over {@code ramp} (so that N long streams run staggered, as real ones do, instead of
     * starting, and ending, all at the same instant).
     */
    public Stats closedLoop(Target target, Workload workload, int concurrency, Duration duration, Duration ramp)
            throws InterruptedException {
        var stats = new Stats();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        var finished = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            long delayMs = ramp.toMillis() * i / concurrency;
            if (delayMs == 0) {
                vertx.runOnContext(v -> loop(target, workload, stats, end, finished));
            } else {
                vertx.setTimer(delayMs, id -> loop(target, workload, stats, end, finished));
            }
        }
        if (!finished.await(duration.toSeconds() + 120, TimeUnit.SECONDS)) {
            stats.errors.incrementAndGet(); // some requests never finished: counted once, the run goes on
        }
        stats.seconds = (System.nanoTime() - start) / 1e9;
        return stats;
    }

    private void loop(Target target, Workload workload, Stats stats, long end, CountDownLatch finished) {
        if (System.nanoTime() >= end) {
            finished.countDown();
            return;
        }
        send(target, workload, System.nanoTime(), stats, () -> loop(target, workload, stats, end, finished));
    }

    /**
     * {@code rate} requests a second for {@code duration}; each request's latency counts from when it
     * should have started. At most {@code maxOutstanding} in flight (beyond, a request is counted as
     * dropped and as a maximal latency, so an overloaded target cannot look fast).
     */
    public Stats openLoop(Target target, Workload workload, double rate, Duration duration, int maxOutstanding)
            throws InterruptedException {
        var stats = new Stats();
        long start = System.nanoTime();
        long total = (long) (rate * duration.toNanos() / 1e9);
        var scheduled = new AtomicLong();
        var outstanding = new AtomicLong();
        var done = new CountDownLatch(1);
        var completed = new AtomicLong();
        var allScheduled = new AtomicBoolean();
        long timer = vertx.setPeriodic(1, id -> {
            long due = Math.min(total, (long) ((System.nanoTime() - start) * rate / 1e9) + 1);
            while (scheduled.get() < due) {
                long i = scheduled.getAndIncrement();
                long intended = start + (long) (i * 1e9 / rate);
                if (outstanding.get() >= maxOutstanding) {
                    stats.dropped.incrementAndGet();
                    stats.latency.recordValue(duration.toNanos() / 1_000);
                    if (completed.incrementAndGet() == total && allScheduled.get()) {
                        done.countDown();
                    }
                    continue;
                }
                outstanding.incrementAndGet();
                send(target, workload, intended, stats, () -> {
                    outstanding.decrementAndGet();
                    if (completed.incrementAndGet() == total && allScheduled.get()) {
                        done.countDown();
                    }
                });
            }
            if (scheduled.get() >= total) {
                allScheduled.set(true);
                vertx.cancelTimer(id);
                if (completed.get() == total) {
                    done.countDown();
                }
            }
        });
        if (!done.await(duration.toSeconds() + 120, TimeUnit.SECONDS)) {
            vertx.cancelTimer(timer);
            stats.errors.incrementAndGet();
        }
        stats.seconds = (System.nanoTime() - start) / 1e9;
        return stats;
    }

    /** One request; {@code then} runs exactly once when it ended, however. */
    private void send(Target target, Workload workload, long intendedNanos, Stats stats, Runnable then) {
        var options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(target.baseUrl() + workload.path())
                .putHeader("content-type", "application/json");
        target.headers().forEach(options::putHeader);
        var ended = new AtomicBoolean();
        Runnable finish = () -> {
            if (ended.compareAndSet(false, true)) {
                then.run();
            }
        };
        client.request(options).compose(request -> request.send(Buffer.buffer(workload.body()))).onComplete(sent -> {
            if (sent.failed()) {
                stats.errors.incrementAndGet();
                finish.run();
                return;
            }
            var response = sent.result();
            boolean good = response.statusCode() == 200;
            long[] lastToken = {0};
            response.handler(buffer -> {
                if (!workload.stream() || !good) {
                    return;
                }
                int tokens = contentChunks(buffer);
                if (tokens > 0) {
                    long now = System.nanoTime();
                    if (lastToken[0] == 0) {
                        stats.timeToFirstToken.recordValue(Math.max(0, (now - intendedNanos) / 1_000));
                    } else {
                        stats.interToken.recordValue(Math.max(0, (now - lastToken[0]) / 1_000));
                    }
                    lastToken[0] = now;
                    stats.tokens.addAndGet(tokens);
                }
            });
            response.exceptionHandler(error -> {
                stats.errors.incrementAndGet();
                finish.run();
            });
            response.endHandler(v -> {
                if (good) {
                    stats.latency.recordValue(Math.max(0, (System.nanoTime() - intendedNanos) / 1_000));
                    stats.ok.incrementAndGet();
                } else {
                    stats.errors.incrementAndGet();
                }
                finish.run();
            });
        });
    }

    /** How many SSE chunks in {@code buffer} carry content ({@code "content":"} followed by something). */
    static int contentChunks(Buffer buffer) {
        byte[] needle = "\"content\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int count = 0;
        int length = buffer.length();
        outer:
        for (int i = 0; i + needle.length < length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (buffer.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            if (buffer.getByte(i + needle.length) != '"') {
                count++;
            }
            i += needle.length - 1;
        }
        return count;
    }

    @Override
    public void close() {
        client.close();
        vertx.close();
    }
}
