package dev.tollgate.ledger.processing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventProcessor;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the ledger's streaming event processors (the {@code ledger-publisher}) running (issue #19
 * item 13). Axon retries a failing handler by itself, but a processor whose thread is interrupted
 * (Axon's own event-handler timeout does that to a handler that runs past 30 s) sets itself shut down
 * and never starts again: keys issued afterwards would never reach the gateways while the admin API
 * answered 201. Every {@code tollgate.processors.check-interval} (5 s) this checks each processor on its
 * own thread (not Spring's shared scheduler, which a stuck sweep would hold) and starts one that is not
 * running, with a backoff doubling from 1 s to 60 s while starts fail. Each start is counted in
 * {@code tollgate_ledger_processor_restarts_total{processor}} (alert rule in infra/). A processor resumes
 * from its tracking token and the publisher skips what the topic already holds, so a restart neither
 * loses nor repeats an event. This is also the liveness health indicator {@code eventProcessors}: it
 * fails only when a processor has not been running for {@code tollgate.processors.wedged-after}
 * (5 min) despite the restarts. An operator who stops a processor on purpose (a token reset) calls
 * {@link #hold} first and {@link #release} after.
 */
@Component("eventProcessors")
public class ProcessorSupervisor implements HealthIndicator {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessorSupervisor.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final EventProcessingConfiguration processing;
    private final MeterRegistry registry;
    private final Duration checkInterval;
    private final Duration wedgedAfter;
    private final Map<String, Supervised> supervised = new ConcurrentHashMap<>();
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private volatile ScheduledExecutorService checker;

    public ProcessorSupervisor(EventProcessingConfiguration processing, MeterRegistry registry,
                               @Value("${tollgate.processors.check-interval:PT5S}") Duration checkInterval,
                               @Value("${tollgate.processors.wedged-after:PT5M}") Duration wedgedAfter) {
        this.processing = processing;
        this.registry = registry;
        this.checkInterval = checkInterval;
        this.wedgedAfter = wedgedAfter;
    }

    /** Starts watching once Axon has started the processors. */
    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        processing.eventProcessors().forEach((name, processor) -> {
            if (processor instanceof StreamingEventProcessor) {
                supervised.computeIfAbsent(name, Supervised::new);
            }
        });
        LOG.info("supervising event processors {} (of {})", supervised.keySet(), processing.eventProcessors().keySet());
        checker = Executors.newSingleThreadScheduledExecutor(runnable -> Thread.ofPlatform().daemon().name("processor-supervisor")
                .unstarted(runnable));
        checker.scheduleWithFixedDelay(this::checkAll, checkInterval.toMillis(), checkInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops watching before Axon shuts the processors down, so that their shutdown is not undone. */
    @EventListener(ContextClosedEvent.class)
    public void stop() {
        ScheduledExecutorService running = checker;
        if (running != null) {
            running.shutdownNow();
        }
    }

    /** Leaves {@code processor} as it is (stopped on purpose) until {@link #release}. */
    public void hold(String processor) {
        held.add(processor);
    }

    /** Supervises {@code processor} again. */
    public void release(String processor) {
        held.remove(processor);
    }

    /** One round of checks; public for tests that do not want to wait for the next round. */
    public void checkAll() {
        for (Supervised one : supervised.values()) {
            try {
                one.check();
            } catch (RuntimeException e) {
                LOG.error("supervising event processor {} failed", one.name, e);
            }
        }
    }

    @Override
    public Health health() {
        var health = Health.up();
        long now = System.nanoTime();
        for (Supervised one : supervised.values()) {
            long stoppedSince = one.stoppedSinceNanos;
            if (stoppedSince == 0 || held.contains(one.name)) {
                health.withDetail(one.name, "running, restarts " + (long) one.restarts.count());
                continue;
            }
            Duration stopped = Duration.ofNanos(now - stoppedSince);
            if (stopped.compareTo(wedgedAfter) > 0) {
                health = Health.down();
            }
            health.withDetail(one.name, "stopped for " + stopped.toSeconds() + " s, restarts " + (long) one.restarts.count());
        }
        return health.build();
    }

    /** One processor under watch; checked only by the supervisor's thread. */
    private final class Supervised {
        private final String name;
        private final Counter restarts;
        /** When it was first seen stopped (System.nanoTime), 0 while running. */
        private volatile long stoppedSinceNanos;
        private Duration backoff = FIRST_BACKOFF;
        private long nextStartNanos;

        Supervised(String name) {
            this.name = name;
            this.restarts = Counter.builder("tollgate.ledger.processor.restarts")
                    .description("Event processors found stopped and started again by the supervisor")
                    .tag("processor", name).register(registry);
        }

        void check() {
            EventProcessor processor = processing.eventProcessor(name).orElse(null);
            if (processor == null || held.contains(name)) {
                return;
            }
            long now = System.nanoTime();
            if (processor.isRunning()) {
                stoppedSinceNanos = 0;
                backoff = FIRST_BACKOFF;
                return;
            }
            if (stoppedSinceNanos == 0) {
                stoppedSinceNanos = now;
            }
            if (now - nextStartNanos < 0) {
                return;
            }
            restarts.increment();
            LOG.warn("event processor {} is not running; starting it (restart {})", name, (long) restarts.count());
            try {
                processor.start();
            } catch (RuntimeException e) {
                LOG.error("event processor {} did not start; next attempt in {} s", name, backoff.toSeconds(), e);
            }
            nextStartNanos = now + backoff.toNanos();
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }
}
