package dev.tollgate.devstack;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.testkit.auth.TestTokens;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * A multi-process Tollgate on loopback (infra/local-cluster.sh): three Kafka nodes (KRaft, separate
 * JVMs), one ledger, two billing instances (projector, invoice writer, API), two gateways, and the
 * fake GPU upstream. With {@code --smoke SECONDS} it drives streaming traffic through both gateways,
 * kills one broker, one gateway and one billing instance with SIGKILL (each restarted after 15 s),
 * and then counts, by event and request id, that no usage was lost or billed twice.
 */
public final class LocalCluster implements AutoCloseable {
    private static final String LEDGER_DB = "tollgate_cluster_ledger";
    private static final String BILLING_DB = "tollgate_cluster_billing";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Path dataDir;
    private final Map<String, Proc> processes = new LinkedHashMap<>();
    private final String classpath = System.getProperty("java.class.path");
    private final String javaBinary = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private FakeUpstream upstream;
    private String bootstrap;
    private DevSecrets secrets;
    /** The cluster's processes check admin tokens with this HS256 secret, made for each run (no identity provider here). */
    private final String jwtSecret = DevSecrets.random();
    private static final String ISSUER = "tollgate-local-cluster";

    /** A child JVM and how to start it again. */
    private final class Proc {
        final String name;
        final List<String> command;
        final Map<String, String> env;
        Process process;

        Proc(String name, List<String> command, Map<String, String> env) {
            this.name = name;
            this.command = command;
            this.env = env;
        }

        void start() throws Exception {
            var builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve(name + ".log").toFile()));
            builder.environment().putAll(env);
            process = builder.start();
        }

        void kill() throws InterruptedException {
            process.destroyForcibly().waitFor();
        }
    }

    private LocalCluster(Path dataDir) {
        this.dataDir = dataDir;
    }

    private void add(String name, String mainClass, List<String> args, Map<String, String> env) throws Exception {
        var command = new ArrayList<>(List.of(javaBinary, "-Xmx512m", "--enable-native-access=ALL-UNNAMED", "-Daxoniq.update-checker.disabled=true",
                "-cp", classpath, mainClass));
        command.addAll(args);
        var proc = new Proc(name, command, env);
        processes.put(name, proc);
        proc.start();
    }

    static LocalCluster start(Path dataDir) throws Exception {
        Files.createDirectories(dataDir);
        var cluster = new LocalCluster(dataDir);
        try {
            cluster.startAll();
            return cluster;
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
    }

    private void startAll() throws Exception {
        secrets = DevSecrets.loadOrCreate(dataDir);
        String clusterId = Uuid.randomUuid().toString();
        int[] brokers = {19092, 19093, 19094};
        int[] controllers = {19192, 19193, 19194};
        String voters = "1@127.0.0.1:" + controllers[0] + ",2@127.0.0.1:" + controllers[1] + ",3@127.0.0.1:" + controllers[2];
        for (int i = 0; i < 3; i++) {
            add("kafka-" + (i + 1), "dev.tollgate.testkit.kafka.KafkaNode", List.of("--node-id", Integer.toString(i + 1), "--broker-port",
                    Integer.toString(brokers[i]), "--controller-port", Integer.toString(controllers[i]), "--voters", voters, "--cluster-id", clusterId,
                    "--data-dir", dataDir.resolve("kafka-" + (i + 1)).toString()), Map.of());
        }
        bootstrap = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094";
        createTopics();
        System.out.println("Kafka: 3 nodes at " + bootstrap);

        upstream = FakeUpstream.start(18000, DevStack.FAKE_MODELS, FakeBehaviour.DEFAULT.withTimeToFirstTokenMs(20)
                .withInterTokenDelayMs(10).withCompletionTokens(40));
        PostgresDatabase.Server pg = PostgresDatabase.Server.fromEnvironment();
        for (String db : List.of(LEDGER_DB, BILLING_DB)) {
            try (var admin = DriverManager.getConnection(pg.jdbcUrl("postgres"), pg.user(), pg.password()); var s = admin.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                s.execute("CREATE DATABASE " + db);
            }
        }
        add("ledger", "dev.tollgate.ledger.LedgerApplication", List.of("--server.port=18081", "--spring.datasource.url=" + pg.jdbcUrl(LEDGER_DB),
                "--spring.datasource.username=" + pg.user(), "--spring.datasource.password=" + pg.password(),
                "--tollgate.kafka.bootstrap-servers=" + bootstrap, "--tollgate.jwt.hs256-secret=" + jwtSecret,
                "--tollgate.jwt.issuer=" + ISSUER, "--tollgate.jwt.audience=" + LocalLedger.AUDIENCE,
                "--tollgate.jwt.max-token-lifetime=" + LocalLedger.DEV_TOKEN_LIFETIME,
                "--tollgate.webhook-master-key=" + secrets.webhookMasterKey(), "--tollgate.instance-id=ledger-1"), Map.of());
        for (int i = 1; i <= 2; i++) {
            add("billing-" + i, "dev.tollgate.projector.BillingServiceApplication", List.of("--server.port=" + (18081 + i),
                    "--spring.datasource.url=" + pg.jdbcUrl(BILLING_DB), "--spring.datasource.username=" + pg.user(),
                    "--spring.datasource.password=" + pg.password(), "--tollgate.kafka.bootstrap-servers=" + bootstrap,
                    "--tollgate.projector.application-id=tollgate-cluster-projector", "--tollgate.projector.standby-replicas=1",
                    "--tollgate.projector.state-dir=" + dataDir.resolve("billing-" + i + "-state"), "--tollgate.instance-id=billing-" + i,
                    "--tollgate.jwt.hs256-secret=" + jwtSecret, "--tollgate.jwt.issuer=" + ISSUER,
                    "--tollgate.jwt.audience=" + LocalLedger.AUDIENCE, "--tollgate.jwt.max-token-lifetime=" + LocalLedger.DEV_TOKEN_LIFETIME),
                    Map.of());
        }
        Path upstreams = dataDir.resolve("upstreams.yaml");
        Files.writeString(upstreams, "pools: {fake: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\nmodels: {"
                + String.join(", ", DevStack.FAKE_MODELS.stream().map(m -> m + ": {pool: fake}").toList()) + "}\n");
        for (int i = 1; i <= 2; i++) {
            add("gateway-" + i, "dev.tollgate.gateway.GatewayMain", List.of(), Map.of("TOLLGATE_GATEWAY_PORT", Integer.toString(18079 + 100 * (i - 1) + 1),
                    "TOLLGATE_KAFKA_BOOTSTRAP", bootstrap, "TOLLGATE_UPSTREAMS", upstreams.toString(),
                    "TOLLGATE_SPOOL_DIR", dataDir.resolve("gateway-" + i + "-spool").toString(), "TOLLGATE_GATEWAY_REPLICAS", "2",
                    "HOSTNAME", "gateway-" + i));
        }
        await("the ledger", () -> get("http://127.0.0.1:18081/health") == 200);
        for (int i = 1; i <= 2; i++) {
            int port = 18081 + i;
            await("billing-" + i, () -> get("http://127.0.0.1:" + port + "/health/readiness") == 200);
        }
        for (String url : gatewayUrls()) {
            await("the gateway at " + url, () -> get(url + "/healthz") == 200);
        }
        System.out.println("ledger :18081, billing :18082 and :18083, gateways :18080 and :18180, fake upstream " + upstream.baseUrl());
    }

    private void createTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (true) {
                try {
                    if (admin.describeCluster().nodes().get().size() == 3) {
                        break;
                    }
                } catch (Exception e) {
                    // not up yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the three Kafka nodes did not form a cluster; see " + dataDir + "/kafka-*.log");
                }
                Thread.sleep(500);
            }
            var topics = new ArrayList<NewTopic>();
            for (TopicSpec topic : Topics.all()) {
                topics.add(new NewTopic(topic.name(), topic.partitions(), (short) 3).configs(topic.configsFor(3)));
            }
            admin.createTopics(topics).all().get();
        }
    }

    List<String> gatewayUrls() {
        return List.of("http://127.0.0.1:18080", "http://127.0.0.1:18180");
    }

    private static int get(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static void await(String what, BooleanSupplier ready) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!ready.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " did not come up; see its log in the data directory");
            }
            Thread.sleep(500);
        }
    }

    /** The smoke run: traffic, three kills, restarts, and the count. Returns true if nothing was lost. */
    boolean smoke(int seconds) throws Exception {
        String token = TestTokens.sign(new JWTClaimsSet.Builder().subject("cluster-admin").issuer(ISSUER).audience(LocalLedger.AUDIENCE)
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plus(Duration.ofDays(1))))
                .claim("roles", List.of("platform-admin")).build(), jwtSecret);
        String apiKey = new DemoSeed("http://127.0.0.1:18081", token).seed(null, DevStack.FAKE_MODELS).token();
        for (String url : gatewayUrls()) {
            await("the demo key on " + url, () -> complete(url, apiKey) != null);
        }
        Set<String> served = ConcurrentHashMap.newKeySet();
        var failed = new AtomicLong();
        var stop = new AtomicBoolean();
        var clients = new ArrayList<Thread>();
        for (int c = 0; c < 4; c++) { // about 500 requests a minute: under the dev plan's 600 RPM
            int first = c;
            clients.add(Thread.ofPlatform().start(() -> {
                int turn = first;
                while (!stop.get()) {
                    String id = complete(gatewayUrls().get(turn++ % 2), apiKey);
                    if (id == null) {
                        failed.incrementAndGet(); // a dead gateway: the next try goes to the other
                    } else {
                        served.add(id);
                    }
                }
            }));
        }
        long t0 = System.nanoTime();
        var schedule = new ArrayList<>(List.of(
                new Object[]{seconds / 6, "kafka-3", "kill"}, new Object[]{seconds / 6 + 15, "kafka-3", "start"},
                new Object[]{seconds / 3, "gateway-1", "kill"}, new Object[]{seconds / 3 + 15, "gateway-1", "start"},
                new Object[]{seconds / 2, "billing-1", "kill"}, new Object[]{seconds / 2 + 15, "billing-1", "start"}));
        schedule.sort(Comparator.comparingInt(step -> (Integer) step[0]));
        for (Object[] step : schedule) {
            long at = t0 + Duration.ofSeconds((Integer) step[0]).toNanos();
            Thread.sleep(Math.max(0, (at - System.nanoTime()) / 1_000_000));
            Proc proc = processes.get((String) step[1]);
            if (step[2].equals("kill")) {
                proc.kill();
            } else {
                proc.start();
            }
            System.out.printf("t=%3ds %s %s (traffic: %d served, %d failed so far)%n", (Integer) step[0], step[2].equals("kill") ? "SIGKILL" : "restart",
                    step[1], served.size(), failed.get());
        }
        Thread.sleep(Math.max(0, (t0 + Duration.ofSeconds(Math.max(seconds, seconds / 2 + 20)).toNanos() - System.nanoTime()) / 1_000_000));
        stop.set(true);
        for (Thread client : clients) {
            client.join();
        }
        System.out.printf("traffic stopped: %d completions served (each with its request id), %d attempts failed on a dead gateway%n",
                served.size(), failed.get());

        // Every served request must have its terminal event on usage.v1, and every billable event must be billed once.
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        Report report;
        do {
            Thread.sleep(2_000);
            report = count(served);
        } while ((report.servedWithoutEvent > 0 || report.notBilled > 0) && System.nanoTime() < deadline);
        System.out.printf("usage.v1: %d records, %d distinct event ids (%d physical duplicates, deduplicated downstream)%n",
                report.records, report.distinct, report.records - report.distinct);
        System.out.printf("served requests without a terminal event: %d (lost)%n", report.servedWithoutEvent);
        System.out.printf("billable events %d, billed %d, not billed %d (lost), billed twice 0 (billed_usage is keyed by event id)%n",
                report.billable, report.billed, report.notBilled);
        return report.servedWithoutEvent == 0 && report.notBilled == 0;
    }

    private record Report(long records, long distinct, long servedWithoutEvent, long billable, long billed, long notBilled) {}

    private Report count(Set<String> served) throws Exception {
        var records = TopicReader.readAll(bootstrap, Topics.USAGE.name());
        var ids = new HashSet<String>();
        var billable = new HashSet<String>();
        var finishedRequests = new HashSet<String>();
        for (var record : records) {
            CloudEvent<EventData> event = EventCodec.decode(record.value());
            ids.add(event.id());
            if (UsageBilling.of(event).isPresent()) {
                billable.add(event.id());
            }
            if (event.data() instanceof RequestFinished finished) {
                finishedRequests.add(finished.requestId());
            }
        }
        long servedWithoutEvent = served.stream().filter(id -> !finishedRequests.contains(id)).count();
        PostgresDatabase.Server pg = PostgresDatabase.Server.fromEnvironment();
        var billed = new HashSet<String>();
        try (var connection = DriverManager.getConnection(pg.jdbcUrl(BILLING_DB), pg.user(), pg.password());
             var statement = connection.createStatement(); var rs = statement.executeQuery("select event_id from billed_usage")) {
            while (rs.next()) {
                billed.add(rs.getString(1));
            }
        } catch (SQLException e) {
            // the billing tables are created by the first instance's start
        }
        long notBilled = billable.stream().filter(id -> !billed.contains(id)).count();
        return new Report(records.size(), ids.size(), servedWithoutEvent, billable.size(), billed.size(), notBilled);
    }

    /** A streamed completion through {@code gateway}; its request id, or null on any failure. */
    private static String complete(String gateway, String apiKey) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/v1/chat/completions"))
                    .header("authorization", "Bearer " + apiKey).header("content-type", "application/json").timeout(Duration.ofSeconds(20))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"fake-chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().contains("[DONE]") ? response.headers().firstValue("x-request-id").orElse(null) : null;
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() {
        var names = new ArrayList<>(processes.keySet());
        Collections.reverse(names);
        for (String name : names) {
            Process p = processes.get(name).process;
            if (p != null && p.isAlive()) {
                p.destroy();
                try {
                    p.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                p.destroyForcibly();
            }
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = DevStack.parse(args);
        Path dataDir = Path.of(options.getOrDefault("data-dir", ".tollgate-cluster"));
        LocalCluster cluster = start(dataDir);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "cluster-stop"));
        if (options.containsKey("smoke")) {
            boolean ok = cluster.smoke(Integer.parseInt(options.get("smoke")));
            System.out.println(ok ? "SMOKE OK: traffic continued through every kill, no usage lost, none billed twice" : "SMOKE FAILED");
            System.exit(ok ? 0 : 1);
        }
        System.out.println("local cluster up; logs in " + dataDir + "; Ctrl-C stops it");
        new CountDownLatch(1).await();
    }
}
