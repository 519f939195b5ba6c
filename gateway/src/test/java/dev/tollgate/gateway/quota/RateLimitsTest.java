package dev.tollgate.gateway.quota;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.schemas.ledger.Limits;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private static Limits rpm(long value) {
        return new Limits(value, null, null, null, null, null);
    }

    private static Principal principal(String key, Limits keyLimits, Limits tenantLimits) {
        return new Principal("acme", key, List.of(), keyLimits, tenantLimits);
    }

    private void advanceSeconds(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void requestsPerMinuteRefuseTheNextRequestWithARetryAfterAndRefill() {
        var limits = new RateLimits(1, now::get);
        Principal p = principal("k", null, rpm(2));

        assertThat(limits.admit(p, 0)).isInstanceOf(RateLimits.Admission.class);
        assertThat(limits.admit(p, 0)).isInstanceOf(RateLimits.Admission.class);
        Object refused = limits.admit(p, 0);

        assertThat(refused).isInstanceOfSatisfying(RateLimits.Refusal.class, r -> {
            assertThat(r.quotaKind()).isEqualTo("rpm");
            assertThat(r.retryAfterSeconds()).isEqualTo(30);
            assertThat(r.headers().limitRequests()).isEqualTo(2);
            assertThat(r.headers().remainingRequests()).isZero();
        });
        advanceSeconds(30);
        assertThat(limits.admit(p, 0)).isInstanceOf(RateLimits.Admission.class);
    }

    @Test
    void tokensAreReservedAtAdmissionAndSettledWithTheRealCount() {
        var limits = new RateLimits(1, now::get);
        Principal p = principal("k", null, new Limits(null, 1000L, null, null, null, null));

        var first = (RateLimits.Admission) limits.admit(p, 600);
        assertThat(limits.admit(p, 600)).isInstanceOfSatisfying(RateLimits.Refusal.class,
                r -> assertThat(r.quotaKind()).isEqualTo("tpm"));
        first.settle(100);
        first.settle(100); // settling twice changes nothing

        assertThat(limits.admit(p, 600)).isInstanceOf(RateLimits.Admission.class);
        assertThat(limits.admit(p, 300)).as("100 + 600 used, 300 left").isInstanceOf(RateLimits.Admission.class);
        assertThat(limits.admit(p, 1)).isInstanceOf(RateLimits.Refusal.class);
    }

    @Test
    void concurrencyIsHeldUntilTheRequestEnds() {
        var limits = new RateLimits(1, now::get);
        Principal p = principal("k", new Limits(null, null, null, null, null, 1L), null);

        var first = (RateLimits.Admission) limits.admit(p, 0);
        assertThat(limits.admit(p, 0)).isInstanceOfSatisfying(RateLimits.Refusal.class,
                r -> assertThat(r.quotaKind()).isEqualTo("concurrency"));
        first.settle(0);
        assertThat(limits.admit(p, 0)).isInstanceOf(RateLimits.Admission.class);
    }

    @Test
    void aKeyLimitBindsOnlyThatKeyAndARefusalTakesNothingFromTheTenant() {
        var limits = new RateLimits(1, now::get);
        Limits tenant = rpm(3);
        Principal k1 = principal("k1", rpm(1), tenant);
        Principal k2 = principal("k2", null, tenant);

        assertThat(limits.admit(k1, 0)).isInstanceOf(RateLimits.Admission.class);
        for (int i = 0; i < 5; i++) {
            assertThat(limits.admit(k1, 0)).isInstanceOf(RateLimits.Refusal.class);
        }
        assertThat(limits.admit(k2, 0)).as("k1's refusals did not use the tenant's budget").isInstanceOf(RateLimits.Admission.class);
        assertThat(limits.admit(k2, 0)).isInstanceOf(RateLimits.Admission.class);
        assertThat(limits.admit(k2, 0)).as("tenant limit 3 reached").isInstanceOf(RateLimits.Refusal.class);
    }

    @Test
    void eachOfNReplicasEnforcesItsShare() {
        var limits = new RateLimits(2, now::get);
        Principal p = principal("k", null, rpm(10));
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            admitted += limits.admit(p, 0) instanceof RateLimits.Admission ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(5);
    }

    @Test
    void aRequestLargerThanTheWholeTokenLimitIsRefusedWithoutARetryAfterThatCouldNeverHelp() {
        var limits = new RateLimits(3, now::get);
        Principal p = principal("k", null, new Limits(null, 30_000L, null, null, null, null));

        assertThat(limits.admit(p, 30_001)).isInstanceOfSatisfying(RateLimits.Refusal.class, r -> {
            assertThat(r.quotaKind()).isEqualTo("tpm");
            assertThat(r.retryable()).isFalse();
            assertThat(r.message()).contains("30001", "30000", "never");
        });
        assertThat(limits.admit(p, 10_000)).as("this replica's share still admits what fits it").isInstanceOf(RateLimits.Admission.class);
    }

    @Test
    void aLimitOfZeroAdmitsNothingOnAnyReplica() {
        var limits = new RateLimits(3, now::get);
        assertThat(limits.admit(principal("k", null, rpm(0)), 0)).isInstanceOf(RateLimits.Refusal.class);
        assertThat(limits.admit(principal("k2", null, new Limits(null, null, null, null, null, 0L)), 0))
                .isInstanceOfSatisfying(RateLimits.Refusal.class, r -> assertThat(r.quotaKind()).isEqualTo("concurrency"));
    }
}
