package dev.tollgate.bench.jmh;

import dev.tollgate.gateway.auth.Authenticator;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.quota.RateLimits;
import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * What the gateway's event loops share, called from several threads at once (ADR 0025): the key
 * check against the shared key state, and the rate-limit admission against shared buckets, for many
 * tenants (the usual case) or one (the worst: every loop on one tenant's lock). Run with {@code -t 1}
 * and {@code -t 2} and compare the throughputs: a shared path that serialized the loops would not
 * scale ({@code bench/jmh.sh SharedPathsBenchmarks -t 2}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SharedPathsBenchmarks {
    private static final int KEYS = 1_000;

    /** How many tenants the requests come from: one (all loops on the same buckets) or many. */
    @Param({"1", "1000"})
    public int tenants;

    private final Map<String, KeyState> keys = new ConcurrentHashMap<>();
    private final Map<String, TenantState> tenantStates = new ConcurrentHashMap<>();
    private Authenticator authenticator;
    private RateLimits limits;
    private final List<String> headers = new ArrayList<>();
    private final List<Principal> principals = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
        Instant now = Instant.now();
        var generous = new Limits(1_000_000_000_000L, 1_000_000_000_000_000L, null, null, null, 1_000_000_000L);
        for (int i = 0; i < KEYS; i++) {
            String tenant = "t" + (i % tenants);
            ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
            keys.put(key.keyId(), new KeyState(key.keyId(), tenant, "k", KeyState.Status.ACTIVE,
                    List.of(new KeyState.Secret(key.hash(), null)), List.of(), List.of(), null, null, 1, now));
            tenantStates.put(tenant, new TenantState(tenant, tenant, TenantState.Status.ACTIVE, "pro", "UTC", "USD", generous, null, null,
                    1, now));
            headers.add("Bearer " + key.token());
        }
        authenticator = new Authenticator(KeyLookup.of(keys, tenantStates));
        for (String header : headers) {
            principals.add(((Authenticator.Authenticated) authenticator.authenticate(header, now)).principal());
        }
        limits = new RateLimits(1, System::nanoTime);
    }

    /** Authenticating a request: parse the header, find the key and tenant, one SHA-256 and a constant-time compare. */
    @Benchmark
    public Object keyCheck() {
        return authenticator.authenticate(headers.get(ThreadLocalRandom.current().nextInt(KEYS)), Instant.now());
    }

    /** Admitting a request against its tenant's and key's RPM, TPM and concurrency, then settling it. */
    @Benchmark
    public Object admission() {
        Object decision = limits.admit(principals.get(ThreadLocalRandom.current().nextInt(KEYS)), 768);
        if (decision instanceof RateLimits.Admission admission) {
            admission.settle(700);
        }
        return decision;
    }
}
