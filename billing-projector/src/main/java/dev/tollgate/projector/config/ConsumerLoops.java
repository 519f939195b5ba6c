package dev.tollgate.projector.config;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Runs and supervises this service's plain consumer loops (invoice writer, alert webhooks, state
 * checker, backfill re-pricer), each on its own thread (issue #19 item 13). A loop that fails in any
 * way its {@link BatchConsumerLoop} does not retry by itself (a consumer that cannot be created or
 * subscribed, a fatal poll error, an error thrown out of the loop) is closed and started again with a
 * new consumer after a backoff doubling from 1 s to 60 s; it resumes from its group's committed
 * offsets, so nothing is skipped. Restarts are counted in {@code tollgate_billing_loop_restarts_total}
 * (label {@code loop}; alert rule in infra/). This is also the liveness health indicator
 * {@code consumerLoops}: it fails only when a loop that should be running has not come back to poll
 * for {@code tollgate.loops.wedged-after} (5 min), which no dependency outage causes (a failing batch
 * is retried between polls), only a thread stuck for good.
 */
@Component("consumerLoops")
public class ConsumerLoops implements HealthIndicator {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoops.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final MeterRegistry registry;
    private final Duration wedgedAfter;
    private final List<Loop> loops = new CopyOnWriteArrayList<>();

    public ConsumerLoops(MeterRegistry registry, @Value("${tollgate.loops.wedged-after:PT5M}") Duration wedgedAfter) {
        this.registry = registry;
        this.wedgedAfter = wedgedAfter;
    }

    /**
     * Starts a loop: {@code consumers} makes a new consumer for each (re)start, which is subscribed to
     * {@code topics} and polled by {@link BatchConsumerLoop#run} until {@link Loop#stop()}.
     */
    public Loop start(String name, Supplier<KafkaConsumer<String, byte[]>> consumers, Collection<String> topics,
                      BatchConsumerLoop.Handler handler, Runnable onFailure) {
        var loop = new Loop(name, consumers, topics, handler, onFailure);
        loops.add(loop);
        loop.thread = Thread.ofPlatform().name(name.replace(' ', '-')).start(loop::supervise);
        return loop;
    }

    @Override
    public Health health() {
        var health = Health.up();
        for (Loop loop : loops) {
            if (loop.stopping) {
                continue;
            }
            Duration quiet = Duration.ofNanos(System.nanoTime() - loop.lastProgress);
            if (quiet.compareTo(wedgedAfter) > 0) {
                health = Health.down();
            }
            health.withDetail(loop.name, "restarts " + (long) loop.restarts.count() + ", last poll " + quiet.toSeconds() + " s ago");
        }
        return health.build();
    }

    /** One supervised loop. */
    public final class Loop {
        private final String name;
        private final Supplier<KafkaConsumer<String, byte[]>> consumers;
        private final Collection<String> topics;
        private final BatchConsumerLoop.Handler handler;
        private final Runnable onFailure;
        private final Counter restarts;
        private volatile KafkaConsumer<String, byte[]> consumer;
        private volatile Thread thread;
        private volatile boolean stopping;
        private volatile long lastProgress = System.nanoTime();

        private Loop(String name, Supplier<KafkaConsumer<String, byte[]>> consumers, Collection<String> topics,
                     BatchConsumerLoop.Handler handler, Runnable onFailure) {
            this.name = name;
            this.consumers = consumers;
            this.topics = topics;
            this.handler = handler;
            this.onFailure = onFailure;
            this.restarts = Counter.builder("tollgate.billing.loop.restarts").tag("loop", name)
                    .description("consumer loops restarted after a failure").register(registry);
        }

        private void supervise() {
            Duration backoff = FIRST_BACKOFF;
            while (!stopping) {
                long started = System.nanoTime();
                try {
                    consumer = consumers.get();
                    if (stopping) {
                        consumer.close(Duration.ZERO);
                        return;
                    }
                    consumer.subscribe(topics);
                    BatchConsumerLoop.run(name, consumer, () -> !stopping, handler, onFailure, this::progress);
                    if (stopping) {
                        return;
                    }
                    throw new IllegalStateException("the poll loop ended while it should run");
                } catch (RuntimeException | Error e) {
                    if (stopping) {
                        return;
                    }
                    closeQuietly();
                    restarts.increment();
                    if (System.nanoTime() - started > MAX_BACKOFF.toNanos()) {
                        backoff = FIRST_BACKOFF; // it ran a good while: this is a new failure, not the same one again
                    }
                    LOG.error("{}: the consumer loop failed; it restarts with a new consumer in {} s", name, backoff.toSeconds(), e);
                    pause(backoff);
                    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                }
            }
        }

        private void progress() {
            lastProgress = System.nanoTime();
        }

        private void closeQuietly() {
            KafkaConsumer<String, byte[]> failed = consumer;
            if (failed != null) {
                try {
                    failed.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.debug("{}: closing the failed consumer", name, e);
                }
            }
        }

        /** Waits, still counting as alive: waiting out a backoff is not being wedged. */
        private void pause(Duration backoff) {
            long until = System.nanoTime() + backoff.toNanos();
            try {
                while (!stopping && System.nanoTime() < until) {
                    progress();
                    Thread.sleep(Math.min(200, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopping = true;
            }
        }

        /** Stops the loop: wakes its consumer and waits (10 s at most) for the thread to close it. */
        public void stop() {
            stopping = true;
            KafkaConsumer<String, byte[]> current = consumer;
            if (current != null) {
                current.wakeup();
            }
            Thread running = thread;
            if (running != null) {
                try {
                    running.join(Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            loops.remove(this);
        }

        /** Restarts so far. */
        public long restarts() {
            return (long) restarts.count();
        }
    }
}
