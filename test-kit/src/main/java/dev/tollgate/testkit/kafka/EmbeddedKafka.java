package dev.tollgate.testkit.kafka;

import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * A single-node Apache Kafka cluster (broker and KRaft controller in one process) running inside
 * this JVM, built only from Maven Central artifacts. For tests and the local dev stack; production
 * runs a real cluster.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final Duration LEADERS_TIMEOUT = Duration.ofSeconds(60);

    private final Path dataDir;
    private final boolean deleteOnClose;
    private final int brokerPort;
    private final KafkaRaftServer server;
    private final Duration startupTime;
    private final boolean freshlyFormatted;

    private EmbeddedKafka(Path dataDir, boolean deleteOnClose, int brokerPort, KafkaRaftServer server,
                          Duration startupTime, boolean freshlyFormatted) {
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.brokerPort = brokerPort;
        this.server = server;
        this.startupTime = startupTime;
        this.freshlyFormatted = freshlyFormatted;
    }

    /** True if this start formatted new, empty storage (no data from an earlier run). */
    public boolean freshlyFormatted() {
        return freshlyFormatted;
    }

    /** Starts a throw-away broker on a free port with every catalog topic created. */
    public static EmbeddedKafka startEphemeral() {
        try {
            return start(Files.createTempDirectory("tollgate-kafka-"), 0, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a broker keeping its data in {@code dataDir} (formatted on first use, reused after),
     * listening on {@code port} (0 for a free one), with every catalog topic created.
     */
    public static EmbeddedKafka start(Path dataDir, int port, boolean deleteOnClose) {
        return start(dataDir, port, deleteOnClose, 0, 0);
    }

    /**
     * As {@link #start(Path, int, boolean)}, plus a second listener on {@code externalPort} that
     * advertises itself as {@code 127.0.0.1:advertisedPort}: put a proxy there (a
     * {@link dev.tollgate.testkit.net.TcpProxy}) and clients that bootstrap through it stay behind it,
     * while {@link #bootstrapServers()} still reaches the broker directly (for the test's own checks).
     */
    public static EmbeddedKafka start(Path dataDir, int port, boolean deleteOnClose, int externalPort, int advertisedPort) {
        long startNanos = System.nanoTime();
        int brokerPort = port == 0 ? freePort() : port;
        int controllerPort = freePort();
        Path logDir = dataDir.resolve("kraft-combined-logs");
        Properties props = brokerProperties(logDir, brokerPort, controllerPort);
        if (externalPort > 0) {
            props.put("listeners", props.get("listeners") + ",EXTERNAL://127.0.0.1:" + externalPort);
            props.put("advertised.listeners", props.get("advertised.listeners") + ",EXTERNAL://127.0.0.1:" + advertisedPort);
            props.put("listener.security.protocol.map", props.get("listener.security.protocol.map") + ",EXTERNAL:PLAINTEXT");
        }
        boolean fresh = format(logDir);
        var server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
        String bootstrap = "127.0.0.1:" + brokerPort;
        try {
            createTopics(bootstrap, Topics.all());
        } catch (RuntimeException e) {
            server.shutdown();
            throw e;
        }
        Duration ready = Duration.ofNanos(System.nanoTime() - startNanos);
        LOG.info("in-JVM Kafka ready at {} in {} ms ({} catalog topics)", bootstrap, ready.toMillis(), Topics.all().size());
        return new EmbeddedKafka(dataDir, deleteOnClose, brokerPort, server, ready, fresh);
    }

    private static Properties brokerProperties(Path logDir, int brokerPort, int controllerPort) {
        var props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "1");
        // One broker: every internal topic has one replica, and few partitions keep start-up fast.
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "4");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
        return props;
    }

    /** Formats the storage on first use; a formatted directory keeps its cluster id and data. */
    private static boolean format(Path logDir) {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return false;
        }
        try {
            Files.createDirectories(logDir);
            new Formatter()
                    .setClusterId(Uuid.randomUuid().toString())
                    .setNodeId(1)
                    .addDirectory(logDir.toString())
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .run();
            return true;
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka storage in " + logDir, e);
        }
    }

    /** {@code host:port} for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    /** From the call to start until the catalog topics existed. */
    public Duration startupTime() {
        return startupTime;
    }

    /** A new admin client; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Creates the topics (one replica each); topics that exist already are left alone. */
    public void createTopics(List<TopicSpec> topics) {
        createTopics(bootstrapServers(), topics);
    }

    private static void createTopics(String bootstrapServers, List<TopicSpec> topics) {
        var newTopics = new ArrayList<NewTopic>();
        for (TopicSpec topic : topics) {
            newTopics.add(new NewTopic(topic.name(), topic.partitions(), (short) 1).configs(topic.configsFor(1)));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            for (var entry : admin.createTopics(newTopics).values().entrySet()) {
                try {
                    entry.getValue().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + entry.getKey(), e.getCause());
                    }
                }
            }
            awaitLeaders(admin, newTopics.stream().map(NewTopic::name).toList());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    /**
     * Waits until the broker leads every partition of {@code topics}: a created topic is in the
     * controller's log before the broker serves it, and a producer that writes in between waits on
     * retries (seen once on a loaded CI machine as a minute without acknowledgements).
     */
    private static void awaitLeaders(Admin admin, List<String> topics) throws InterruptedException {
        long deadline = System.nanoTime() + LEADERS_TIMEOUT.toNanos();
        while (true) {
            try {
                boolean led = admin.describeTopics(topics).allTopicNames().get().values().stream()
                        .flatMap(description -> description.partitions().stream())
                        .allMatch(partition -> partition.leader() != null && !partition.leader().isEmpty());
                if (led) {
                    return;
                }
            } catch (ExecutionException e) {
                // Not known to the broker yet: try again.
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the broker leads not every partition of " + topics + " after " + LEADERS_TIMEOUT);
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (deleteOnClose) {
            deleteRecursively(dataDir);
        }
    }

    private static int freePort() {
        try (var socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete {}", dir, e);
        }
    }
}
