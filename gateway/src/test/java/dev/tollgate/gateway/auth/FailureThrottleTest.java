package dev.tollgate.gateway.auth;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class FailureThrottleTest {
    private final AtomicLong now = new AtomicLong();
    private final FailureThrottle throttle = new FailureThrottle(5, 3, now::get);

    @Test
    void anAddressIsHeldBackOnceItsFailuresRunOutAndLetGoAsTheyRefill() {
        for (int i = 0; i < 5; i++) {
            assertThat(throttle.retryAfterSeconds("10.0.0.1", null)).isZero();
            throttle.failed("10.0.0.1", null);
        }
        assertThat(throttle.retryAfterSeconds("10.0.0.1", null)).isPositive();
        assertThat(throttle.retryAfterSeconds("10.0.0.2", null)).as("other addresses are not affected").isZero();
        now.addAndGet(12_000_000_000L); // 12 s refill one failure at 5 per minute
        assertThat(throttle.retryAfterSeconds("10.0.0.1", null)).isZero();
    }

    @Test
    void aKeyIdIsHeldBackWhateverAddressesTheGuessesComeFrom() {
        for (int i = 0; i < 3; i++) {
            throttle.failed("10.0.1." + i, "key_under_attack");
        }
        assertThat(throttle.retryAfterSeconds("192.168.7.7", "key_under_attack")).isPositive();
        assertThat(throttle.retryAfterSeconds("192.168.7.7", "another_key")).isZero();
    }

    @Test
    void memoryStaysBounded() {
        for (int i = 0; i < FailureThrottle.MAX_TRACKED + 10; i++) {
            throttle.failed("addr-" + i, null);
        }
        assertThat(throttle.tracked()).isLessThanOrEqualTo(FailureThrottle.MAX_TRACKED);
    }
}
