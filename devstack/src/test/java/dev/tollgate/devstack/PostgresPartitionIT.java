package dev.tollgate.devstack;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.http.TestHttp;
import dev.tollgate.testkit.ledger.LedgerPublication;
import dev.tollgate.testkit.net.TcpProxy;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.postgres.PrivatePostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * The network between the services and PostgreSQL partitioned, then healed with the connections
 * still open: the bytes wait, as TCP retransmits them, instead of being lost ({@code TcpProxy.Cut.HOLD}).
 * First 15 s, shorter than the services' 30 s socket timeout (statements in flight finish late on
 * the same connections), then 45 s, longer (they give up on them: a commit whose answer never came
 * may have happened). Meanwhile the gateway serves and the admin API is asked to rotate keys. Nothing
 * may be lost or counted twice: every usage event billed once, every ledger event in the store on
 * ledger.events.v1 once, and the gateway takes the secret of each key's last acknowledged rotation.
 */
class PostgresPartitionIT {
    private static final List<Duration> PARTITIONS = List.of(Duration.ofSeconds(15), Duration.ofSeconds(45));
    private static final int KEYS = 3;

    @Test
    void partitionsThatHealWithTheConnectionsOpenLoseNothingAndCountNothingTwice(@TempDir Path dataDir) throws Exception {
        assumeThat(PrivatePostgres.binaries()).as("PostgreSQL binaries under /usr/lib/postgresql").isPresent();
        try (PrivatePostgres postgres = PrivatePostgres.create(); TcpProxy proxy = TcpProxy.start(postgres.port())) {
            Map<String, String> options = DevOptions.onPostgres(dataDir, proxy.port());
            try (DevStack stack = DevStack.start(options)) {
                PostgresDatabase.Server server = postgres.server(); // the test's own reads go around the proxy
                String billing = LocalBilling.DEFAULT_DATABASE;
                var recoveries = new ArrayList<String>();
                ChatLoad load = new ChatLoad(stack, 0);
                Rotations rotations = new Rotations(stack);
                try {
                    await().atMost(Duration.ofMinutes(1)).until(() -> BilledUsage.rows(server, billing) >= 10);
                    for (Duration partition : PARTITIONS) {
                        await().atMost(Duration.ofMinutes(1)).until(() -> rotations.acknowledged.size() == KEYS);
                        proxy.partition(TcpProxy.Cut.HOLD);
                        Thread.sleep(partition.toMillis());
                        proxy.heal();
                        long healed = System.nanoTime();
                        String newKey = awaitNewKey(stack, "after-" + partition.toSeconds() + "s");
                        double ledgerBack = (System.nanoTime() - healed) / 1e9;
                        await().atMost(Duration.ofMinutes(2)).ignoreExceptions()
                                .until(() -> TestHttp.call("GET", stack.gatewayUrl() + "/v1/models", newKey, null).statusCode() == 200);
                        recoveries.add(String.format("%d s: ledger took a command %.1f s after the heal, its key worked at the gateway after %.1f s",
                                partition.toSeconds(), ledgerBack, (System.nanoTime() - healed) / 1e9));
                    }
                    Thread.sleep(3_000);
                } finally {
                    rotations.close();
                    load.close();
                }

                BilledUsage.Tally tally = BilledUsage.awaitBilled(stack.kafkaBootstrapServers(), server, billing, "demo", load.served());
                LedgerPublication publication;
                try (var ledgerStore = DriverManager.getConnection(server.jdbcUrl(LocalLedger.DEFAULT_DATABASE), server.user(), server.password())) {
                    publication = LedgerPublication.awaitPublished(ledgerStore, stack.kafkaBootstrapServers(), Duration.ofMinutes(2));
                }
                int checked = 0;
                for (Map.Entry<String, String> last : rotations.acknowledged.entrySet()) {
                    if (!rotations.unacknowledgedAfterLastAck.contains(last.getKey())) { // nothing that might have happened after it
                        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().alias("the last acknowledged secret of " + last.getKey())
                                .until(() -> TestHttp.call("GET", stack.gatewayUrl() + "/v1/models", last.getValue(), null).statusCode() == 200);
                        checked++;
                    }
                }

                System.out.printf("[fault] PostgreSQL partitioned (bytes held, connections kept) %s under load: gateway served %d requests "
                                + "(%d failed); %s; key rotations asked %d, answered %s; usage events produced %d, billed %d, lost %d, "
                                + "duplicated %d; ledger events in the store %d, on ledger.events.v1 %d, lost %d, unknown %d, sent twice %d; "
                                + "last acknowledged secrets checked at the gateway %d of %d keys%n",
                        PARTITIONS.stream().map(d -> d.toSeconds() + " s").toList(), load.served(), load.failed(),
                        String.join("; ", recoveries), rotations.asked(), rotations.answers, tally.produced(), tally.billed(),
                        tally.lost().size(), tally.duplicated(), publication.stored().size(), publication.published().size(),
                        publication.lost().size(), publication.unknown().size(), publication.duplicateRecords(), checked, KEYS);
                assertThat(load.failed()).as("gateway requests that failed: %s", load.failures()).isZero();
                assertThat(tally.lost()).as("usage events never billed").isEmpty();
                assertThat(tally.unknown()).as("billed, never produced").isEmpty();
                assertThat(tally.duplicated()).as("billed twice").isZero();
                assertThat(publication.lost()).as("ledger events of the store never published").isEmpty();
                assertThat(publication.unknown()).as("published ledger events the store does not hold").isEmpty();
                assertThat(publication.duplicateRecords()).as("ledger events sent twice").isZero();
                assertThat(rotations.answers.keySet()).as("how the admin API answered rotations (status -> count); first bodies %s", rotations.firstBodies)
                        .isSubsetOf(Set.of(200, 503));
                assertThat(checked).as("keys whose last rotation is known").isPositive();
            }
        }
    }

    private static String awaitNewKey(DevStack stack, String name) {
        String[] apiKey = new String[1];
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
            HttpResponse<String> issued = issueKey(stack, name);
            if (issued.statusCode() != 201) {
                return false;
            }
            apiKey[0] = EventCodec.mapper().readTree(issued.body()).path("apiKey").asText();
            return true;
        });
        return apiKey[0];
    }

    private static HttpResponse<String> issueKey(DevStack stack, String name) throws IOException {
        return TestHttp.call("POST", stack.adminUrl() + "/admin/v1/tenants/demo/keys", stack.adminToken(),
                "{\"name\":\"" + name + "\",\"scopes\":[\"inference\"]}");
    }

    /**
     * One admin client rotating {@link #KEYS} keys of its own, one request at a time, through the
     * partitions: remembers each key's last acknowledged secret and whether a rotation whose outcome
     * it never learned followed it.
     */
    private static final class Rotations implements AutoCloseable {
        final Map<String, String> acknowledged = new ConcurrentHashMap<>(); // key id -> secret of its last 200
        final Set<String> unacknowledgedAfterLastAck = ConcurrentHashMap.newKeySet();
        final Map<Integer, Integer> answers = new TreeMap<>(); // status -> count; -1 for no answer
        final Map<Integer, String> firstBodies = new ConcurrentHashMap<>(); // status -> the first answer's body, to say why
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Rotations(DevStack stack) throws Exception {
            var keyIds = new ArrayList<String>();
            for (int i = 0; i < KEYS; i++) {
                HttpResponse<String> issued = issueKey(stack, "rotating-" + i);
                assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
                keyIds.add(EventCodec.mapper().readTree(issued.body()).path("keyId").asText());
            }
            thread = Thread.ofPlatform().name("key-rotations").start(() -> {
                while (running.get()) {
                    String keyId = keyIds.get(ThreadLocalRandom.current().nextInt(keyIds.size()));
                    int status;
                    try {
                        HttpResponse<String> rotated = TestHttp.call("POST", stack.adminUrl() + "/admin/v1/keys/" + keyId + ":rotate",
                                stack.adminToken(), "{}");
                        status = rotated.statusCode();
                        firstBodies.putIfAbsent(status, rotated.body());
                        if (status == 200) {
                            acknowledged.put(keyId, EventCodec.mapper().readTree(rotated.body()).path("apiKey").asText());
                            unacknowledgedAfterLastAck.remove(keyId);
                        }
                    } catch (Exception e) {
                        status = -1;
                    }
                    if (status != 200) {
                        unacknowledgedAfterLastAck.add(keyId); // may or may not have happened
                    }
                    synchronized (answers) {
                        answers.merge(status, 1, Integer::sum);
                    }
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        int asked() {
            synchronized (answers) {
                return answers.values().stream().mapToInt(Integer::intValue).sum();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(70_000);
        }
    }
}
