package dev.tollgate.projector.config;

import dev.tollgate.projector.ProjectorApplication;
import dev.tollgate.projector.stream.ProjectorSettings;
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

    public ProjectorLifecycle(BillingProperties properties) {
        this.properties = properties;
    }

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
                applicationServer, p.standbyReplicas(), java.util.Map.of());
        LOG.info("projector {} started, serving interactive queries at {}", p.applicationId(), applicationServer);
    }

    /** The running streams, or null before the web server started. */
    public KafkaStreams streams() {
        ProjectorApplication running = projector;
        return running == null ? null : running.streams();
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
