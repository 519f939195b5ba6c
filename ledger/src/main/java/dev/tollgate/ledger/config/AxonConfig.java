package dev.tollgate.ledger.config;

import org.axonframework.config.EventProcessingConfigurer;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.eventsourcing.EventCountSnapshotTriggerDefinition;
import org.axonframework.eventsourcing.SnapshotTriggerDefinition;
import org.axonframework.eventsourcing.Snapshotter;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.messaging.correlation.MessageOriginProvider;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Axon wiring that differs from the Spring Boot defaults; ADR 0006 explains each choice. */
@Configuration
public class AxonConfig {
    /** The processing group that maintains the read model and publishes to Kafka. */
    public static final String PUBLISHER = "ledger-publisher";

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
