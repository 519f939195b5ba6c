package dev.tollgate.gateway.http;

import dev.tollgate.gateway.GatewayMain;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.kafka.TopicReader;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Memory stays bounded under slow clients: a gateway process capped at a 96 MiB heap (and 64 MiB of
 * direct memory) serves 50 streams of 100,000 tokens each (about 15 MB apiece, 750 MB in all: more
 * than the kernel's socket buffers hold) to clients that stop reading after the first 16 KiB.
 * Without backpressure the gateway would have to hold most of those 750 MB and die of
 * OutOfMemoryError; with it the model server waits. Then the clients read on: every token arrives,
 * every stream is billed in full, once.
 */
class SlowClientsMemoryIT {
    private static final int CLIENTS = 50;
    private static final int TOKENS = 100_000;

    @Test
    void fiftyStalledStreamsOfFifteenMegabytesFitInANinetySixMegabyteHeap(@TempDir Path dir) throws Exception {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        try (var kafka = EmbeddedKafka.startEphemeral();
             FakeUpstream upstream = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT.withCompletionTokens(TOKENS))) {
            Instant now = Instant.now();
            publish(kafka.bootstrapServers(), Topics.TENANTS_STATE.name(), new TenantState("slow", "Slow", TenantState.Status.ACTIVE, null,
                    "UTC", "USD", Limits.NONE, null, null, 1, now));
            publish(kafka.bootstrapServers(), Topics.KEYS_STATE.name(), new KeyState(key.keyId(), "slow", "k", KeyState.Status.ACTIVE,
                    List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
            Path upstreams = dir.resolve("upstreams.yaml");
            Files.writeString(upstreams, "pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\"}]}}\nmodels: {fake-chat: {pool: p}}\n");
            int port = freePort();
            Process gateway = gateway(kafka.bootstrapServers(), upstreams, dir, port);
            ExecutorService readers = Executors.newFixedThreadPool(CLIENTS);
            var sockets = new ArrayList<Socket>();
            var heads = new ArrayList<byte[]>();
            try {
                String base = "http://127.0.0.1:" + port;
                await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> get(base + "/readyz").statusCode() == 200);
                String body = "{\"model\":\"fake-chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"flood\"}]}";
                for (int i = 0; i < CLIENTS; i++) {
                    var socket = new Socket();
                    socket.setReceiveBufferSize(8 * 1024);
                    socket.connect(new InetSocketAddress("127.0.0.1", port));
                    socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            + "Authorization: Bearer " + key.token() + "\r\nConnection: close\r\n"
                            + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                    byte[] head = socket.getInputStream().readNBytes(16 * 1024); // then nothing, for now
                    assertThat(new String(head, 0, Math.min(head.length, 200), StandardCharsets.UTF_8)).as("stream %d", i)
                            .startsWith("HTTP/1.1 200");
                    sockets.add(socket);
                    heads.add(head);
                }
                double heapPeak = 0;
                for (int i = 0; i < 10; i++) { // five seconds stalled
                    Thread.sleep(500);
                    heapPeak = Math.max(heapPeak, heapUsed(base));
                }
                int held = upstream.runningRequests();
                assertThat(gateway.isAlive()).as("the gateway survived the stalled streams").isTrue();
                assertThat(held).as("the model server waits for the slow clients instead of the gateway buffering").isEqualTo(CLIENTS);

                var counts = new ArrayList<Future<Long>>();
                for (int i = 0; i < sockets.size(); i++) {
                    var in = new SequenceInputStream(new ByteArrayInputStream(heads.get(i)), sockets.get(i).getInputStream());
                    counts.add(readers.submit(() -> contentChunks(in)));
                }
                long delivered = 0;
                for (Future<Long> count : counts) {
                    long chunks = count.get();
                    assertThat(chunks).as("tokens delivered to one slow client").isEqualTo(TOKENS);
                    delivered += chunks;
                }
                heapPeak = Math.max(heapPeak, heapUsed(base));
                await().atMost(Duration.ofMinutes(1)).until(() -> billedTokens(kafka.bootstrapServers()).size() == CLIENTS);
                List<Long> billed = billedTokens(kafka.bootstrapServers());
                long rssPeakKb = peakRssKb(gateway.pid());
                System.out.printf("[fault] %d clients stall on %d-token streams (%d MB due) | gateway -Xmx96m: heap peak %.1f MiB, "
                                + "RSS peak %d MiB, model server held %d requests | tokens delivered %d, billed %d in %d terminal events%n",
                        CLIENTS, TOKENS, (long) CLIENTS * 15, heapPeak / (1 << 20), rssPeakKb / 1024, held, delivered,
                        billed.stream().mapToLong(Long::longValue).sum(), billed.size());
                assertThat(billed).as("each stream billed in full, once").hasSize(CLIENTS).containsOnly((long) TOKENS);
                assertThat(gateway.isAlive()).isTrue();
            } finally {
                for (Socket socket : sockets) {
                    socket.close();
                }
                readers.shutdownNow();
                gateway.destroy();
                gateway.waitFor();
            }
        }
    }

    private static Process gateway(String bootstrap, Path upstreams, Path dir, int port) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var builder = new ProcessBuilder(java, "-Xmx96m", "-XX:MaxDirectMemorySize=64m", "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), GatewayMain.class.getName())
                .redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile());
        builder.environment().putAll(Map.of("TOLLGATE_GATEWAY_PORT", String.valueOf(port), "TOLLGATE_KAFKA_BOOTSTRAP", bootstrap,
                "TOLLGATE_UPSTREAMS", upstreams.toString(), "TOLLGATE_SPOOL_DIR", dir.resolve("spool").toString(),
                "TOLLGATE_LOG_LEVEL", "WARN"));
        return builder.start();
    }

    /** Counts the SSE chunks that carry content until the gateway closes the connection, reading in 64 KiB pieces. */
    private static long contentChunks(InputStream in) throws Exception {
        byte[] needle = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] buffer = new byte[64 * 1024];
        long count = 0;
        int matched = 0; // bytes of the needle matched so far (it has no repeated prefix, so no back-off is needed)
        boolean afterNeedle = false;
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            for (int i = 0; i < n; i++) {
                byte b = buffer[i];
                if (afterNeedle) {
                    count += b != '"' ? 1 : 0;
                    afterNeedle = false;
                }
                matched = b == needle[matched] ? matched + 1 : b == needle[0] ? 1 : 0;
                if (matched == needle.length) {
                    afterNeedle = true;
                    matched = 0;
                }
            }
        }
        return count;
    }

    private static double heapUsed(String base) throws Exception {
        double used = 0;
        for (String line : get(base + "/metrics").body().split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                used += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return used;
    }

    private static long peakRssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    /** Completion tokens of every terminal usage event of tenant "slow". */
    private static List<Long> billedTokens(String bootstrap) {
        var tokens = new ArrayList<Long>();
        TopicReader.readAll(bootstrap, Topics.USAGE.name()).forEach(record -> {
            CloudEvent<EventData> event = EventCodec.decode(record.value());
            if ("slow".equals(event.tenantid()) && event.data() instanceof RequestFinished finished) {
                tokens.add(finished.usage().completionTokens());
            }
        });
        return tokens;
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void publish(String bootstrap, String topic, StateRecord record) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
        }
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
