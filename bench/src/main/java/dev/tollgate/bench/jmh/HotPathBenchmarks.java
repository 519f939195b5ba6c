package dev.tollgate.bench.jmh;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.metering.SseScanner;
import dev.tollgate.gateway.metering.StreamMeter;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.SecretHash;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's per-request and per-chunk hot paths, each as the gateway calls it ({@code bench/jmh.sh}).
 * Average time per call; read together with BENCHMARKS.md's end-to-end figures, not instead of them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HotPathBenchmarks {
    private ApiKeys.PresentedKey presented;
    private SecretHash stored;
    private byte[] upstreamBuffer;
    private CloudEvent<EventData> finished;
    private RateLimits limits;
    private Principal principal;
    private StreamMeter streamMeter;
    private SseScanner streamScanner;

    @Setup
    public void setUp() {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        presented = ApiKeys.parse(key.token()).orElseThrow();
        stored = key.hash();
        // What one network read from a vLLM-style upstream typically holds: a few SSE events of one token each.
        var sse = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            sse.append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764288000,\"model\":\"llama\",")
                    .append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token").append(i).append("\"},\"finish_reason\":null}]}\n\n");
        }
        upstreamBuffer = sse.toString().getBytes(StandardCharsets.UTF_8);
        streamMeter = new StreamMeter();
        streamScanner = new SseScanner(1 << 20, (data, offset, length, start, end) -> streamMeter.onData(data, offset, length));
        finished = CloudEvent.of(EventType.USAGE_REQUEST_COMPLETED, "/gateway/gw-1", Instant.now(), "req_0123456789abcdef",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                new RequestFinished("req_0123456789abcdef", "acme", "k0123456789abcde", "llama", Endpoint.CHAT_COMPLETIONS, "gpu-0",
                        new TokenUsage(512, 256, 0), 256, 5_120L, 180L, new TokenUsage(512, 256, 0), null, null));
        var generous = new Limits(1_000_000_000L, 1_000_000_000_000L, null, null, null, 1_000_000L);
        limits = new RateLimits(3, System::nanoTime);
        principal = new Principal("acme", "k0123456789abcde", List.of(), generous, generous, "pro", List.of());
    }

    /** Verifying a presented API key against its stored hash (SHA-256, constant-time compare). */
    @Benchmark
    public boolean keyVerification() {
        return ApiKeys.verify(presented, stored);
    }

    /** Scanning one upstream read for SSE events and counting its content tokens (per read of every stream). */
    @Benchmark
    public long sseScanAndTokenCount() {
        var meter = new StreamMeter();
        new SseScanner(1 << 20, (data, offset, length, start, end) -> meter.onData(data, offset, length)).feed(upstreamBuffer);
        return meter.contentChunks();
    }

    /**
     * One read of a stream that is already running: the stream's scanner and meter live as long as the
     * stream, so what this allocates per call is what the gateway allocates per four tokens ({@code -prof gc}).
     */
    @Benchmark
    public long sseStreamRead() {
        streamScanner.feed(upstreamBuffer);
        return streamMeter.contentChunks();
    }

    /** Encoding a terminal usage event (CloudEvents JSON) for the spool and Kafka. */
    @Benchmark
    public byte[] usageEventSerialization() {
        return EventCodec.encode(finished);
    }

    /** Admitting a request against per-tenant and per-key RPM, TPM and concurrency, then settling it. */
    @Benchmark
    public Object quotaCheck() {
        Object decision = limits.admit(principal, 768);
        if (decision instanceof RateLimits.Admission admission) {
            admission.settle(700);
        }
        return decision;
    }
}
