package dev.tollgate.projector;

import dev.tollgate.projector.stream.ProjectorSettings;
import dev.tollgate.projector.stream.ProjectorTopology;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the billing projector: the Kafka Streams application of {@link ProjectorTopology} with
 * exactly-once v2. Configuration from the environment: {@code TOLLGATE_KAFKA_BOOTSTRAP}
 * (127.0.0.1:9092), {@code TOLLGATE_PROJECTOR_STATE_DIR} (./projector-state),
 * {@code TOLLGATE_PROJECTOR_APP_ID} (tollgate-billing-projector).
 */
public final class ProjectorApplication implements AutoCloseable {
    private final KafkaStreams streams;

    private ProjectorApplication(KafkaStreams streams) {
        this.streams = streams;
    }

    /** Starts the projector; {@link #close()} stops it. */
    public static ProjectorApplication start(String bootstrapServers, String applicationId, Path stateDir) {
        var props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
        var streams = new KafkaStreams(ProjectorTopology.build(ProjectorSettings.defaults()), props);
        streams.start();
        return new ProjectorApplication(streams);
    }

    /** True once the application runs (global stores loaded, tasks assigned). */
    public boolean running() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
    }

    public static void main(String[] args) throws InterruptedException {
        var app = start(env("TOLLGATE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), env("TOLLGATE_PROJECTOR_APP_ID", "tollgate-billing-projector"),
                Path.of(env("TOLLGATE_PROJECTOR_STATE_DIR", "projector-state")));
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "projector-stop"));
        stopped.await();
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
