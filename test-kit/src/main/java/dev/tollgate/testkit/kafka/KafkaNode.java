package dev.tollgate.testkit.kafka;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * One node of a multi-process KRaft cluster on loopback (combined broker and controller), for the
 * local cluster of {@code infra/local-cluster.sh}: {@code --node-id N --broker-port P
 * --controller-port C --voters 1@127.0.0.1:C1,2@... --cluster-id ID --data-dir DIR [--replication 3]}.
 * Replication 3, min ISR 2, as in production ({@code --replication 1} for a single node, as the
 * benchmarks run one). Formats its storage on first start; reuses it after.
 */
public final class KafkaNode {
    private KafkaNode() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int nodeId = Integer.parseInt(options.get("node-id"));
        Path logDir = Path.of(options.get("data-dir"));
        var props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", Integer.toString(nodeId));
        props.put("controller.quorum.voters", options.get("voters"));
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + options.get("broker-port") + ",CONTROLLER://127.0.0.1:" + options.get("controller-port"));
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + options.get("broker-port"));
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("auto.create.topics.enable", "false");
        String replication = options.getOrDefault("replication", "3");
        String minIsr = replication.equals("1") ? "1" : "2";
        props.put("default.replication.factor", replication);
        props.put("min.insync.replicas", minIsr);
        props.put("offsets.topic.replication.factor", replication);
        props.put("offsets.topic.num.partitions", "6");
        props.put("transaction.state.log.replication.factor", replication);
        props.put("transaction.state.log.min.isr", minIsr);
        props.put("transaction.state.log.num.partitions", "6");
        props.put("share.coordinator.state.topic.replication.factor", replication);
        props.put("share.coordinator.state.topic.min.isr", minIsr);
        props.put("group.initial.rebalance.delay.ms", "0");
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            Files.createDirectories(logDir);
            new Formatter().setClusterId(options.get("cluster-id")).setNodeId(nodeId).addDirectory(logDir.toString())
                    .setMetadataLogDirectory(logDir.toString()).setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream())).run();
        }
        var server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
        System.out.println("kafka node " + nodeId + " up on 127.0.0.1:" + options.get("broker-port"));
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
            stopped.countDown();
        }, "kafka-node-stop"));
        stopped.await();
    }
}
