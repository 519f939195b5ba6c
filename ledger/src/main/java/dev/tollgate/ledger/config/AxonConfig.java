package dev.tollgate.ledger.config;

import org.axonframework.common.caching.Cache;
import org.axonframework.common.caching.WeakReferenceCache;
import org.axonframework.config.EventProcessingConfigurer;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventsourcing.EventCountSnapshotTriggerDefinition;
import org.axonframework.eventsourcing.SnapshotTriggerDefinition;
import org.axonframework.eventsourcing.Snapshotter;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.messaging.correlation.MessageOriginProvider;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.axonframework.spring.eventsourcing.SpringAggregateSnapshotterFactoryBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Axon wiring that differs from the Spring Boot defaults; ADR 0006 explains each choice. */
@Configuration
public class AxonConfig {
    /** The processing group that maintains the read model and publishes to Kafka. */
    public static final String PUBLISHER = "ledger-publisher";

    /**
     * Snapshots are taken on their own thread. With Axon's default (the committing thread, while it
     * still holds the aggregate lock) a snapshot needs a second database connection while other
     * commands for the same tenant hold connections waiting for that lock: a pool-exhaustion
     * deadlock under concurrent key issuance (found by the key benchmark, kept by ConcurrentCommandsIT).
     * A snapshot is an optimisation: when the small queue is full, it is skipped.
     */
    @Bean
    public SpringAggregateSnapshotterFactoryBean snapshotter() {
        var executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(64),
                runnable -> {
                    Thread thread = new Thread(runnable, "axon-snapshotter");
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.DiscardPolicy());
        var factory = new SpringAggregateSnapshotterFactoryBean();
        factory.setExecutor(executor);
        return factory;
    }

    /**
     * Loaded tenants stay in memory while referenced, so a burst of commands for one tenant does not
     * re-read its stream each time. Safe with several replicas: an append on a stale copy violates
     * the (aggregate, sequence) unique key, fails with 409 and evicts the entry.
     */
    @Bean
    public Cache tenantCache() {
        return new WeakReferenceCache();
    }

    /** Tenants live for years and accumulate key events: snapshot every 100 events. */
    @Bean
    public SnapshotTriggerDefinition tenantSnapshotTrigger(Snapshotter snapshotter) {
        return new EventCountSnapshotTriggerDefinition(snapshotter, 100);
    }

    /** Who asked for a change travels from the command to every event it caused (audit trail). */
    @Bean
    public CorrelationDataProvider actorCorrelation() {
        return new SimpleCorrelationDataProvider("actor", "traceparent");
    }

    @Bean
    public CorrelationDataProvider messageOrigin() {
        return new MessageOriginProvider();
    }

    /**
     * A failed publish must stop and retry the processor (with back-off), never skip the event:
     * skipping would leave a gap on the topics.
     */
    @Autowired
    public void configure(EventProcessingConfigurer processing) {
        processing.registerListenerInvocationErrorHandler(PUBLISHER, configuration -> PropagatingErrorHandler.instance());
    }
}
