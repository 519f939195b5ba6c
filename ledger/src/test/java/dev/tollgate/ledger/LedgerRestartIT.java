package dev.tollgate.ledger;

import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.KeyRotated;
import dev.tollgate.schemas.ledger.SecretHash;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.http.TestHttp;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.ledger.LedgerPublication;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The ledger killed with SIGKILL (a separate JVM) while four clients rotate keys as fast as it
 * answers, then started again on the same database: every event in the event store reaches
 * ledger.events.v1 (none lost, none that the store does not hold), every rotation the API
 * acknowledged is in the store and on the topic, and each key's newest record on keys.state.v1
 * carries the secret of its last acknowledged rotation; and no event is sent twice, although the
 * kill can fall between a send and the tracking token's commit (the publisher reads what the
 * topic's end already holds before it sends again).
 */
class LedgerRestartIT {
    private static final int KEYS = 20;

    @TempDir
    Path temp;

    /** One rotation the API answered 200 for: the key and the secret it handed out. */
    private record Acknowledged(String keyId, String apiKey, long sequence) {}

    @Test
    void everyEventReachesTheTopicsAcrossAKillDuringRotations() throws Exception {
        try (var kafka = EmbeddedKafka.startEphemeral(); var database = PostgresDatabase.create("ledger_restart_it")) {
            int port = freePort();
            String base = "http://127.0.0.1:" + port;
            Process first = ledger(kafka.bootstrapServers(), database, port, "first");
            Process second = null;
            try {
                awaitHealthy(base);
                String admin = LedgerTestSupport.token("platform-admin", List.of("platform-admin"), null);
                assertThat(TestHttp.call("POST", base + "/admin/v1/tenants", admin, """
                        {"tenantId":"rotating","name":"Rotating Inc.","billingTimeZone":"UTC","currency":"USD"}""").statusCode())
                        .isEqualTo(201);
                var keyIds = new ArrayList<String>();
                for (int i = 0; i < KEYS; i++) {
                    HttpResponse<String> issued = TestHttp.call("POST", base + "/admin/v1/tenants/rotating/keys", admin,
                            "{\"name\":\"key-" + i + "\",\"scopes\":[\"inference\"]}");
                    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
                    keyIds.add(EventCodec.mapper().readTree(issued.body()).path("keyId").asText());
                }

                var acknowledged = new ConcurrentHashMap<String, Acknowledged>(); // key id -> last acknowledged rotation
                var unacknowledgedAfterLastAck = ConcurrentHashMap.<String>newKeySet();
                var sequence = new AtomicLong();
                var acks = new AtomicInteger();
                var failures = new AtomicInteger();
                var rotating = new AtomicBoolean(true);
                var clients = new ArrayList<Thread>();
                for (int c = 0; c < 4; c++) {
                    List<String> own = keyIds.subList(c * KEYS / 4, (c + 1) * KEYS / 4); // one client per key: rotations of a key are serial
                    clients.add(Thread.ofPlatform().start(() -> {
                        while (rotating.get()) {
                            String keyId = own.get(ThreadLocalRandom.current().nextInt(own.size()));
                            long order = sequence.incrementAndGet();
                            try {
                                HttpResponse<String> rotated = TestHttp.call("POST", base + "/admin/v1/keys/" + keyId + ":rotate", admin, "{}");
                                if (rotated.statusCode() == 200) {
                                    String apiKey = EventCodec.mapper().readTree(rotated.body()).path("apiKey").asText();
                                    acknowledged.merge(keyId, new Acknowledged(keyId, apiKey, order),
                                            (a, b) -> a.sequence() > b.sequence() ? a : b);
                                    acks.incrementAndGet();
                                    continue;
                                }
                                unacknowledgedAfterLastAck.add(keyId); // answered but not 200: not known to have happened or not
                            } catch (ConnectException e) {
                                // the ledger is down: the request never reached it
                            } catch (Exception e) {
                                unacknowledgedAfterLastAck.add(keyId); // in flight at the kill: may or may not have happened
                            }
                            failures.incrementAndGet();
                            sleep(50);
                        }
                    }));
                }
                await().atMost(Duration.ofMinutes(1)).until(() -> acks.get() >= 150);
                int acksAtKill = acks.get();
                first.destroyForcibly().waitFor();
                second = ledger(kafka.bootstrapServers(), database, port, "second");
                awaitHealthy(base);
                int acksAtRestart = acks.get();
                await().atMost(Duration.ofMinutes(1)).until(() -> acks.get() >= acksAtRestart + 150);
                rotating.set(false);
                for (Thread client : clients) {
                    client.join();
                }

                // The publisher catches up with the store; then compare.
                LedgerPublication publication;
                try (var connection = database.connect()) {
                    publication = LedgerPublication.awaitPublished(connection, kafka.bootstrapServers(), Duration.ofMinutes(2));
                }
                Set<String> stored = publication.stored();

                // Every acknowledged rotation's secret is on the topic, in a KeyRotated event.
                Set<String> rotatedHashes = new HashSet<>();
                for (ConsumerRecord<String, byte[]> record : TopicReader.readAll(kafka.bootstrapServers(), Topics.LEDGER_EVENTS.name())) {
                    CloudEvent<?> event = EventCodec.decode(record.value());
                    if (event.data() instanceof KeyRotated rotated) {
                        rotatedHashes.add(rotated.newSecretHash().value());
                    }
                }
                Map<String, KeyState> newestState = new HashMap<>();
                for (ConsumerRecord<String, byte[]> record : TopicReader.readAll(kafka.bootstrapServers(), Topics.KEYS_STATE.name())) {
                    KeyState state = EventCodec.decodeState(record.value(), KeyState.class);
                    newestState.merge(state.keyId(), state, (a, b) -> a.version() >= b.version() ? a : b);
                }
                int checkedFinalStates = 0;
                for (Acknowledged ack : acknowledged.values()) {
                    assertThat(rotatedHashes).as("acknowledged rotation of " + ack.keyId()).contains(hash(ack.apiKey()).value());
                    if (!unacknowledgedAfterLastAck.contains(ack.keyId())) { // nothing that might have happened after it
                        KeyState state = newestState.get(ack.keyId());
                        SecretHash current = state.secrets().stream().filter(s -> s.validUntil() == null).findFirst().orElseThrow().hash();
                        assertThat(current).as("current secret of " + ack.keyId()).isEqualTo(hash(ack.apiKey()));
                        checkedFinalStates++;
                    }
                }

                System.out.printf("[fault] ledger killed (SIGKILL) during key rotations: %d rotations acknowledged (%d before the kill, %d while it "
                                + "was down or unanswered); events in the store %d, on ledger.events.v1 %d distinct, lost %d, unknown %d, "
                                + "records sent twice %d; final key states checked %d of %d keys%n",
                        acks.get(), acksAtKill, failures.get(), stored.size(), publication.published().size(), publication.lost().size(),
                        publication.unknown().size(), publication.duplicateRecords(), checkedFinalStates, KEYS);
                assertThat(publication.lost()).as("events of the store never published").isEmpty();
                assertThat(publication.unknown()).as("published events the store does not hold").isEmpty();
                assertThat(publication.duplicateRecords()).as("events sent twice (the publisher reads the topic's end after a restart)").isZero();
                assertThat(acks.get() - acksAtKill).isGreaterThanOrEqualTo(150);
                assertThat(stored).as("tenant, keys and at least every acknowledged rotation").hasSizeGreaterThanOrEqualTo(1 + KEYS + acks.get());
                assertThat(checkedFinalStates).as("keys whose last rotation is known").isPositive();
            } finally {
                first.destroyForcibly();
                if (second != null) {
                    second.destroy();
                    second.waitFor();
                }
            }
        }
    }

    private static SecretHash hash(String apiKey) {
        ApiKeys.PresentedKey presented = ApiKeys.parse(apiKey).orElseThrow();
        return ApiKeys.hash(presented.keyId(), presented.secret());
    }

    private Process ledger(String bootstrap, PostgresDatabase database, int port, String name) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), LedgerApplication.class.getName(),
                "--server.port=" + port, "--spring.datasource.url=" + database.jdbcUrl(), "--spring.datasource.username=" + database.user(),
                "--spring.datasource.password=" + database.password(), "--tollgate.kafka.bootstrap-servers=" + bootstrap,
                "--tollgate.jwt.hs256-secret=" + LedgerTestSupport.JWT_SECRET, "--tollgate.jwt.issuer=" + LedgerTestSupport.ISSUER,
                "--tollgate.jwt.audience=" + LedgerTestSupport.AUDIENCE, "--tollgate.webhook-master-key=" + LedgerTestSupport.WEBHOOK_MASTER_KEY,
                "--tollgate.key-expiry-sweep=PT1H");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(temp.resolve("ledger-" + name + ".log").toFile()).start();
    }

    private static void awaitHealthy(String base) {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> TestHttp.call("GET", base + "/health", null, null).statusCode() == 200);
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
