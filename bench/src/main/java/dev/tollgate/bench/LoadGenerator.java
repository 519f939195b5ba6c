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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongConsumer;

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
    /** 100 ms windows kept per run (an hour). */
    private static final int WINDOWS = 36_000;
    private static final byte[] CONTENT = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SENT = "\"x_sent_ns\":".getBytes(StandardCharsets.US_ASCII);

    /** What is called: {@code baseUrl + path}, with these headers. */
    public record Target(String name, String baseUrl, Map<String, String> headers) {}

    /** What is sent. */
    public record Workload(String path, String body, boolean stream) {}

    /** What one run measured (all times in microseconds). */
    public static final class Stats {
        public final Histogram latency = new ConcurrentHistogram(3_600_000_000L, 3);
        public final Histogram timeToFirstToken = new ConcurrentHistogram(3_600_000_000L, 3);
        public final Histogram interToken = new ConcurrentHistogram(3_600_000_000L, 3);
        /**
         * Each token's delivery latency, from the model server's {@code "x_sent_ns"} stamp (its monotonic clock, the
         * same as this process's on one Linux host) to its arrival here; empty when the server does not stamp.
         */
        public final Histogram delivery = new ConcurrentHistogram(3_600_000_000L, 3);
        /** Per 100 ms of the run (by when the token was sent): tokens, tokens delivered later than 50 ms, the slowest (µs). */
        public final AtomicLongArray windowTokens = new AtomicLongArray(WINDOWS);
        public final AtomicLongArray windowLate = new AtomicLongArray(WINDOWS);
        public final AtomicLongArray windowMax = new AtomicLongArray(WINDOWS);
        /** What is recorded: only what happens in [{@code from}, {@code to}) (a request's latency: when it ends then). */
        volatile long from = Long.MIN_VALUE;
        volatile long to = Long.MAX_VALUE;
        /** A windowed load starts no request after this. */
        volatile long loadUntil = Long.MAX_VALUE;
        /** Where the 100 ms windows start. */
        volatile long startNanos = System.nanoTime();
        public final AtomicLong ok = new AtomicLong();
        public final AtomicLong errors = new AtomicLong();
        public final AtomicLong tokens = new AtomicLong();
        /** Requests an open loop could not even start on time because too many were outstanding. */
        public final AtomicLong dropped = new AtomicLong();
        public volatile double seconds;

        boolean counts(long nanos) {
            return nanos >= from && nanos < to;
        }

        /** Stats that record nothing until {@link #startWindow()}, for a load that runs until {@link #stopLoad()}. */
        public static Stats windowed() {
            var stats = new Stats();
            stats.from = Long.MAX_VALUE;
            return stats;
        }

        /** Records from now on. */
        public void startWindow() {
            startNanos = System.nanoTime();
            from = startNanos;
        }

        /** Records nothing more; the load goes on until {@link #stopLoad()}. */
        public void endWindow() {
            to = System.nanoTime();
        }

        /** The load starts no more requests and ends when those in flight have. */
        public void stopLoad() {
            loadUntil = System.nanoTime();
        }

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

    /**
     * As {@link #closedLoop(Target, Workload, int, Duration, Duration)}, under one continuous load that runs until
     * {@link Stats#stopLoad()}, recording only between {@link Stats#startWindow()} and {@link Stats#endWindow()}, which
     * another thread calls: what is measured is the steady state, with no start or end of the load in it (a load stopped
     * and started again between a warm-up and the measurement had the proxy's JIT deoptimize and recompile its hot paths
     * in the first seconds measured). {@code stats} comes from {@link Stats#windowed()}.
     */
    public Stats closedLoop(Target target, Workload workload, int concurrency, Duration ramp, Stats stats) throws InterruptedException {
        var finished = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            long delayMs = ramp.toMillis() * i / concurrency;
            vertx.setTimer(Math.max(1, delayMs), id -> windowLoop(target, workload, stats, finished));
        }
        while (!finished.await(1, TimeUnit.SECONDS)) {
            if (stats.loadUntil != Long.MAX_VALUE && System.nanoTime() - stats.loadUntil > TimeUnit.SECONDS.toNanos(180)) {
                stats.errors.incrementAndGet(); // some requests never finished: counted once, the run goes on
                break;
            }
        }
        stats.seconds = (stats.to - stats.from) / 1e9;
        return stats;
    }

    private void windowLoop(Target target, Workload workload, Stats stats, CountDownLatch finished) {
        if (System.nanoTime() >= stats.loadUntil) {
            finished.countDown();
            return;
        }
        send(target, workload, System.nanoTime(), stats, () -> windowLoop(target, workload, stats, finished));
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
                if (stats.counts(System.nanoTime())) {
                    stats.errors.incrementAndGet();
                }
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
                    if (stats.counts(now)) {
                        if (lastToken[0] == 0) {
                            stats.timeToFirstToken.recordValue(Math.max(0, (now - intendedNanos) / 1_000));
                        } else {
                            stats.interToken.recordValue(Math.max(0, (now - lastToken[0]) / 1_000));
                        }
                        stats.tokens.addAndGet(tokens);
                        sentStamps(buffer, stamp -> recordDelivery(stats, stamp, now));
                    }
                    lastToken[0] = now;
                }
            });
            response.exceptionHandler(error -> {
                if (stats.counts(System.nanoTime())) {
                    stats.errors.incrementAndGet();
                }
                finish.run();
            });
            response.endHandler(v -> {
                long now = System.nanoTime();
                if (!stats.counts(now)) {
                    finish.run();
                    return;
                }
                if (good) {
                    stats.latency.recordValue(Math.max(0, (now - intendedNanos) / 1_000));
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
        int count = 0;
        for (int at = indexOf(buffer, CONTENT, 0); at >= 0; at = indexOf(buffer, CONTENT, at + CONTENT.length)) {
            if (at + CONTENT.length < buffer.length() && buffer.getByte(at + CONTENT.length) != '"') {
                count++;
            }
        }
        return count;
    }

    /** Every whole {@code "x_sent_ns":<digits>} stamp in {@code buffer} (one cut by the end of a read is skipped). */
    static void sentStamps(Buffer buffer, LongConsumer each) {
        for (int at = indexOf(buffer, SENT, 0); at >= 0; at = indexOf(buffer, SENT, at + SENT.length)) {
            long value = 0;
            int i = at + SENT.length;
            for (; i < buffer.length() && buffer.getByte(i) >= '0' && buffer.getByte(i) <= '9'; i++) {
                value = value * 10 + (buffer.getByte(i) - '0');
            }
            if (i < buffer.length() && i > at + SENT.length) {
                each.accept(value);
            }
        }
    }

    private static void recordDelivery(Stats stats, long sentNanos, long arrivedNanos) {
        long micros = Math.max(0, (arrivedNanos - sentNanos) / 1_000);
        stats.delivery.recordValue(micros);
        int window = (int) ((sentNanos - stats.startNanos) / 100_000_000L);
        if (window >= 0 && window < WINDOWS) {
            stats.windowTokens.incrementAndGet(window);
            if (micros > 50_000) {
                stats.windowLate.incrementAndGet(window);
            }
            stats.windowMax.accumulateAndGet(window, micros, Math::max);
        }
    }

    private static int indexOf(Buffer buffer, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= buffer.length(); i++) {
            for (int j = 0; j < needle.length; j++) {
                if (buffer.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        client.close();
        vertx.close();
    }
}
