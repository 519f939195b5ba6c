package dev.tollgate.projector.config;

import dev.tollgate.projector.ProjectorApplication;
import dev.tollgate.projector.stream.ProjectorSettings;
import dev.tollgate.projector.stream.ProjectorMetrics;
import dev.tollgate.schemas.topic.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.opentelemetry.api.OpenTelemetry;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts the projector once the web server listens, so that the {@code application.server} it
 * advertises for interactive queries carries the real port; stops it with the context.
 */
@Component("projector")
public class ProjectorLifecycle implements ApplicationListener<WebServerInitializedEvent>, DisposableBean, HealthIndicator {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectorLifecycle.class);

    private final BillingProperties properties;
    private volatile ProjectorApplication projector;
    private volatile String applicationServer;

    private final MeterRegistry registry;
    private final AtomicLong lastQuotaAsOf = new AtomicLong(-1);
    private final Counter lateEvents;
    private final Counter quotaStates;
    private final Counter threadsReplaced;

    private final OpenTelemetry openTelemetry;

    public ProjectorLifecycle(BillingProperties properties, MeterRegistry registry, OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.properties = properties;
        this.registry = registry;
        Gauge.builder("tollgate.projector.quota.state.lag", lastQuotaAsOf,
                        v -> v.get() < 0 ? Double.NaN : Math.max(0, System.currentTimeMillis() - v.get()) / 1000.0)
                .description("Wall clock minus the event time of the newest usage reflected in the last quota states emitted")
                .baseUnit("seconds").register(registry);
        lateEvents = Counter.builder("tollgate.projector.late.events").description("Usage events later than the grace, billed as adjustments")
                .register(registry);
        quotaStates = Counter.builder("tollgate.projector.quota.states").description("Quota states emitted to quota.state.v1")
                .register(registry);
        threadsReplaced = Counter.builder("tollgate.projector.stream.threads.replaced")
                .description("Projector stream threads that failed and were replaced (their tasks resume from the last commit)")
                .register(registry);
        for (var topic : List.of(Topics.TENANTS_STATE, Topics.KEYS_STATE, Topics.PRICELISTS_STATE)) {
            rejectedStateRecords(topic.name()); // from zero, so that an alert can read the first one
        }
    }

    private Counter rejectedStateRecords(String topic) {
        return Counter.builder("tollgate.projector.state.rejected")
                .description("Ledger state records that failed their checks and were not loaded (the last good value stays); counted again on each restore")
                .tag("topic", topic).register(registry);
    }

    private final ProjectorMetrics metrics = new ProjectorMetrics() {
        @Override
        public void quotaStatesEmitted(int count, Instant asOf) {
            quotaStates.increment(count);
            lastQuotaAsOf.accumulateAndGet(asOf.toEpochMilli(), Math::max);
        }

        @Override
        public void lateEvent() {
            lateEvents.increment();
        }

        @Override
        public void streamThreadReplaced() {
            threadsReplaced.increment();
        }

        @Override
        public void stateRecordRejected(String topic) {
            rejectedStateRecords(topic).increment();
        }
    };

    @Override
    public synchronized void onApplicationEvent(WebServerInitializedEvent event) {
        if (projector != null || "management".equals(event.getApplicationContext().getServerNamespace())) {
            return; // only the main server, once
        }
        BillingProperties.Projector p = properties.projector();
        if (!p.enabled()) {
            LOG.info("projector disabled on this instance: invoice writer and billing API only");
            return;
        }
        applicationServer = p.advertisedHost() + ":" + event.getWebServer().getPort();
        var settings = new ProjectorSettings(p.dedupHorizon(), p.quotaEmitInterval(), p.grace(), p.minuteRetention());
        projector = ProjectorApplication.start(properties.kafka().bootstrapServers(), p.applicationId(), Path.of(p.stateDir()), settings,
                applicationServer, p.standbyReplicas(), Map.of(), metrics, openTelemetry);
        // Kafka Streams' own metrics (consumer lag, commit latency, process rates) under kafka.stream.*.
        new KafkaStreamsMetrics(projector.streams()).bindTo(registry);
        LOG.info("projector {} started, serving interactive queries at {}", p.applicationId(), applicationServer);
    }

    /** The running streams, or null before the web server started. */
    public KafkaStreams streams() {
        ProjectorApplication running = projector;
        return running == null ? null : running.streams();
    }

    /** This instance's name ({@code tollgate.instance-id}): what answers may say about who served them. */
    public String instanceId() {
        return properties.instanceId();
    }

    /** {@code host:port} this instance advertises. */
    public String applicationServer() {
        return applicationServer;
    }

    @Override
    public Health health() {
        KafkaStreams streams = streams();
        if (!properties.projector().enabled()) {
            return Health.up().withDetail("state", "DISABLED").build();
        }
        if (streams == null) {
            return Health.down().withDetail("state", "NOT_STARTED").build();
        }
        KafkaStreams.State state = streams.state();
        return (state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING ? Health.up() : Health.down())
                .withDetail("state", state.name()).build();
    }

    @Override
    public void destroy() {
        ProjectorApplication running = projector;
        if (running != null) {
            running.close();
        }
    }
}
