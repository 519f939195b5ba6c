package dev.tollgate.gateway.bench;

import dev.tollgate.gateway.http.GatewayServer;
import dev.tollgate.gateway.metering.UsageEmitter;
import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.gateway.state.StateDirectory;
import dev.tollgate.gateway.upstream.EndpointPool;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.SharedKafka;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Quick benchmark (not a test; the full one is the benchmarks issue): small requests of each API
 * (chat, the Responses API, the Messages API; whole and streamed) straight to the fake upstream, then
 * through the gateway with auth and metering to Kafka on, same load, same run. Everything shares one JVM and 2 cores, so compare the two rows, not the
 * absolute figures. Run with {@code bench/gateway-overhead.sh [requests] [concurrency]}.
 */
public final class GatewayOverheadBenchmark {
    /** One API measured: its path, a small request body (16 tokens answered) and how it sends the key. */
    private record Surface(String name, String path, String contentType, byte[] body, String keyHeader) {
        static Surface json(String name, String path, String body, String keyHeader) {
            return new Surface(name, path, "application/json", body.getBytes(StandardCharsets.UTF_8), keyHeader);
        }

        HttpRequest request(String base, String key) {
            var request = HttpRequest.newBuilder(URI.create(base + path)).header("content-type", contentType)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
            if (key != null) {
                request.header(keyHeader, keyHeader.equals("authorization") ? "Bearer " + key : key);
            }
            return request.build();
        }
    }

    private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the gateway.\"}]";
    private static final List<Surface> SURFACES = List.of(
            Surface.json("chat", "/v1/chat/completions", "{\"model\":\"fake-chat\",\"max_tokens\":16," + MESSAGES + "}", "authorization"),
            Surface.json("chat-stream", "/v1/chat/completions", "{\"model\":\"fake-chat\",\"stream\":true,\"max_tokens\":16," + MESSAGES + "}",
                    "authorization"),
            Surface.json("responses", "/v1/responses", "{\"model\":\"fake-chat\",\"max_output_tokens\":16,\"input\":\"Say hello to the gateway.\"}",
                    "authorization"),
            Surface.json("responses-stream", "/v1/responses", "{\"model\":\"fake-chat\",\"stream\":true,\"max_output_tokens\":16,"
                    + "\"input\":\"Say hello to the gateway.\"}", "authorization"),
            Surface.json("messages", "/v1/messages", "{\"model\":\"fake-chat\",\"max_tokens\":16," + MESSAGES + "}", "x-api-key"),
            Surface.json("messages-stream", "/v1/messages", "{\"model\":\"fake-chat\",\"stream\":true,\"max_tokens\":16," + MESSAGES + "}",
                    "x-api-key"),
            Surface.json("rerank", "/v1/rerank", "{\"model\":\"fake-chat\",\"query\":\"what is a gateway\",\"documents\":"
                    + "[\"a gateway meters requests\",\"bananas are yellow\",\"a toll gate\"]}", "authorization"),
            Surface.json("score", "/v1/score", "{\"model\":\"fake-chat\",\"text_1\":\"gateway\",\"text_2\":[\"a gateway\",\"a banana\"]}",
                    "authorization"),
            new Surface("transcription-1s", "/v1/audio/transcriptions", "multipart/form-data; boundary=bench", transcription(32_000),
                    "authorization"));

    /** A transcription request of {@code bytes} bytes of audio (32,000 are a second to the fake upstream), as the SDKs send it. */
    private static byte[] transcription(int bytes) {
        byte[] head = ("--bench\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfake-chat\r\n--bench\r\nContent-Disposition: form-data;"
                + " name=\"file\"; filename=\"speech.wav\"\r\nContent-Type: audio/wav\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\r\n--bench--\r\n".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + bytes + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(tail, 0, body, head.length + bytes, tail.length);
        return body;
    }

    private GatewayOverheadBenchmark() {}

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        String bootstrap = SharedKafka.get().bootstrapServers();
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        Instant now = Instant.now();
        for (StateRecord record : List.<StateRecord>of(
                new TenantState("bench", "B", TenantState.Status.ACTIVE, null, "UTC", "USD", Limits.NONE, null, null, 1, now),
                new KeyState(key.keyId(), "bench", "k", KeyState.Status.ACTIVE, List.of(new KeyState.Secret(key.hash(), null)),
                        List.of(), List.of(), null, null, 1, now))) {
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                    new StringSerializer(), new ByteArraySerializer())) {
                String topic = record instanceof KeyState ? Topics.KEYS_STATE.name() : Topics.TENANTS_STATE.name();
                producer.send(new ProducerRecord<>(topic, record.stateKey(), EventCodec.encodeState(record))).get();
            }
        }
        try (var upstream = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT)) {
            Vertx vertx = Vertx.vertx();
            StateDirectory state = StateDirectory.start(bootstrap);
            var usage = new UsageEmitter(bootstrap, "bench", Files.createTempDirectory("spool"), Spool.Options.DEFAULT, false);
            var config = UpstreamConfig.parse("pools: {p: {endpoints: [{url: \"" + upstream.baseUrl() + "\", maxConcurrency: 4096}]}}\n"
                    + "models: {fake-chat: {pool: p}}\n");
            int port = new GatewayServer(vertx, state, new EndpointPool(config), usage).listen("127.0.0.1", 0)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
            while (!state.ready()) {
                Thread.sleep(50);
            }
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String gatewayUrl = "http://127.0.0.1:" + port;
            for (Surface surface : SURFACES) { // every path warmed before any is measured: the JIT settles first
                run("warm-up direct", http, surface.request(upstream.baseUrl(), null), requests / 2, concurrency);
                run("warm-up gateway", http, surface.request(gatewayUrl, key.token()), requests / 2, concurrency);
            }
            for (Surface surface : SURFACES) {
                HttpRequest direct = surface.request(upstream.baseUrl(), null);
                HttpRequest gateway = surface.request(gatewayUrl, key.token());
                double[] d = run(surface.name() + " direct", http, direct, requests, concurrency);
                double[] g = run(surface.name() + " gateway", http, gateway, requests, concurrency);
                System.out.printf("%s gateway/direct: throughput x%.2f, added p50 %.2f ms, added p99 %.2f ms; usage events lost %d%n",
                        surface.name(), g[0] / d[0], g[1] - d[1], g[2] - d[2], usage.lostEvents());
            }
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            state.close();
            usage.close();
        }
        System.exit(0);
    }

    /** Returns {requests/s, p50 ms, p99 ms}. */
    private static double[] run(String name, HttpClient http, HttpRequest request, int requests, int concurrency) throws Exception {
        long[] latencies = new long[requests];
        var permits = new Semaphore(concurrency);
        var failures = new AtomicInteger();
        var all = new ArrayList<CompletableFuture<?>>(requests);
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            permits.acquire();
            int index = i;
            long sent = System.nanoTime();
            all.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                latencies[index] = System.nanoTime() - sent;
                if (error != null || response.statusCode() != 200) {
                    failures.incrementAndGet();
                }
                permits.release();
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        double seconds = (System.nanoTime() - start) / 1e9;
        Arrays.sort(latencies);
        double p50 = latencies[requests / 2] / 1e6;
        double p99 = latencies[(int) (requests * 0.99)] / 1e6;
        System.out.printf("%-24s %7d requests, concurrency %3d: %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  failures %d%n",
                name, requests, concurrency, requests / seconds, p50, p99, failures.get());
        return new double[] {requests / seconds, p50, p99};
    }
}
