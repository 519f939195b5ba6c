package dev.tollgate.projector;

import dev.tollgate.projector.stream.ProjectorMetrics;
import dev.tollgate.projector.stream.ProjectorSettings;
import dev.tollgate.projector.stream.ProjectorTopology;
import io.opentelemetry.api.OpenTelemetry;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The billing projector's Kafka Streams application: the topology of {@link ProjectorTopology}
 * with exactly-once v2. The billing service ({@link BillingServiceApplication}) runs it next to the
 * invoice writer and the billing API; tests run it alone.
 */
public final class ProjectorApplication implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectorApplication.class);
    private final KafkaStreams streams;

    private ProjectorApplication(KafkaStreams streams) {
        this.streams = streams;
    }

    /** Starts the projector with the default settings and no interactive-query endpoint. */
    public static ProjectorApplication start(String bootstrapServers, String applicationId, Path stateDir) {
        return start(bootstrapServers, applicationId, stateDir, ProjectorSettings.defaults(), null, 0, Map.of());
    }

    /**
     * Starts the projector; {@link #close()} stops it.
     *
     * @param applicationServer {@code host:port} of this instance's billing API, for interactive
     *                          queries routed between instances; null when there is none
     * @param overrides         further Kafka Streams configuration, applied last
     */
    public static ProjectorApplication start(String bootstrapServers, String applicationId, Path stateDir, ProjectorSettings settings,
                                             String applicationServer, int standbyReplicas, Map<String, Object> overrides) {
        return start(bootstrapServers, applicationId, stateDir, settings, applicationServer, standbyReplicas, overrides,
                ProjectorMetrics.NONE);
    }

    /** As above, reporting to {@code metrics}. */
    public static ProjectorApplication start(String bootstrapServers, String applicationId, Path stateDir, ProjectorSettings settings,
                                             String applicationServer, int standbyReplicas, Map<String, Object> overrides,
                                             ProjectorMetrics metrics) {
        return start(bootstrapServers, applicationId, stateDir, settings, applicationServer, standbyReplicas, overrides, metrics,
                OpenTelemetry.noop());
    }

    /** As above, with a span per billed event (a child of the gateway's, from the record's {@code traceparent}). */
    public static ProjectorApplication start(String bootstrapServers, String applicationId, Path stateDir, ProjectorSettings settings,
                                             String applicationServer, int standbyReplicas, Map<String, Object> overrides,
                                             ProjectorMetrics metrics,
                                             OpenTelemetry openTelemetry) {
        var props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        // 10 s rather than the consumer's 45 s: a stream thread fenced by a partition (its transaction timed out) rejoins the
        // group under a new member id, and the rebalance waits for the old one's session to expire; meanwhile nothing is
        // billed and no quota state moves (KafkaPartitionEndToEndIT: billing 48 s after the heal). Heartbeats come from a
        // background thread every 3 s, so only an instance that is really gone misses 10 s of them.
        props.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 10_000);
        if (applicationServer != null) {
            props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);
        }
        props.putAll(overrides);
        var streams = new KafkaStreams(ProjectorTopology.build(settings, metrics, openTelemetry), props);
        // Kafka Streams' default answer to a failed stream thread is to shut the whole client down, for good: a
        // Kafka outage longer than a send may block (a punctuation's quota states: "not present in metadata after
        // 60000 ms", then the transaction cannot commit) stopped billing until someone restarted the service
        // (KafkaOutageEndToEndIT in CI). A new thread instead takes the tasks over from their last committed
        // transaction (exactly-once: the failed one is aborted) and waits for Kafka like any consumer. Records
        // that cannot be decoded go to dead letters before they get here (ADR 0014); one that made processing
        // fail every time would make the new thread fail too, over and over: the alert on the counter says so.
        streams.setUncaughtExceptionHandler(failure -> {
            LOG.error("a projector stream thread failed; replacing it (its tasks resume from their last commit)", failure);
            metrics.streamThreadReplaced();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        return new ProjectorApplication(streams);
    }

    /** True once the application runs (global stores loaded, tasks assigned). */
    public boolean running() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /** The running streams instance (interactive queries, metadata). */
    public KafkaStreams streams() {
        return streams;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
    }

    /**
     * Runs the projector alone, without the invoice writer and the API (tests that kill it, and
     * deployments that scale it apart). Environment: {@code TOLLGATE_KAFKA_BOOTSTRAP},
     * {@code TOLLGATE_PROJECTOR_APP_ID}, {@code TOLLGATE_PROJECTOR_STATE_DIR},
     * {@code TOLLGATE_PROJECTOR_GRACE} (ISO-8601 duration), {@code TOLLGATE_PROJECTOR_SESSION_TIMEOUT_MS}
     * (how soon the group notices a dead instance; 10 s otherwise).
     */
    public static void main(String[] args) throws InterruptedException {
        ProjectorSettings settings = ProjectorSettings.defaults().withGrace(Duration.parse(env("TOLLGATE_PROJECTOR_GRACE",
                ProjectorSettings.DEFAULT_GRACE.toString())));
        var app = start(env("TOLLGATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), env("TOLLGATE_PROJECTOR_APP_ID", "tollgate-billing-projector"),
                Path.of(env("TOLLGATE_PROJECTOR_STATE_DIR", "projector-state")), settings, null, 0, overrides());
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "projector-stop"));
        stopped.await();
    }

    private static Map<String, Object> overrides() {
        String sessionTimeout = System.getenv("TOLLGATE_PROJECTOR_SESSION_TIMEOUT_MS");
        return sessionTimeout == null || sessionTimeout.isBlank() ? Map.of()
                : Map.of(StreamsConfig.consumerPrefix("session.timeout.ms"), Integer.parseInt(sessionTimeout));
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
