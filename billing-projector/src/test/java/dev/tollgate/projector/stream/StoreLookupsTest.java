package dev.tollgate.projector.stream;

import dev.tollgate.projector.support.UsageEvents;
import dev.tollgate.schemas.state.TenantState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StoreLookupsTest {
    private final StoreLookups.Decoded<TenantState> decoded = new StoreLookups.Decoded<>(TenantState.class);

    @Test
    void theSameStoredBytesAreDecodedOnce() {
        byte[] stored = UsageEvents.tenant("t1", "pro", "UTC");

        TenantState first = decoded.of("t1", stored);

        assertThat(first.planId()).isEqualTo("pro");
        assertThat(decoded.of("t1", stored)).isSameAs(first);
        assertThat(decoded.of("t1", stored.clone())).as("equal bytes in another array").isSameAs(first);
    }

    @Test
    void newStoredBytesAreDecodedAgainAndADeletedValueIsGone() {
        byte[] stored = UsageEvents.tenant("t1", "pro", "UTC");
        decoded.of("t1", stored);
        stored[0] = ' '; // the caller's array changed after the decoding: the copy kept is not

        assertThat(decoded.of("t1", UsageEvents.tenant("t1", "enterprise", "Asia/Kathmandu")).planId()).isEqualTo("enterprise");
        assertThat(decoded.of("t1", UsageEvents.tenant("t1", "pro", "UTC")).planId()).isEqualTo("pro");
        assertThat(decoded.of("t1", null)).isNull();
        assertThat(decoded.of("t2", UsageEvents.tenant("t2", "pro", "UTC")).tenantId()).isEqualTo("t2");
    }

    @Test
    void theLeastRecentlyUsedAreDroppedPastTheBound() {
        byte[] kept = UsageEvents.tenant("t0", "pro", "UTC");
        TenantState first = decoded.of("t0", kept);
        TenantState firstT1 = decoded.of("t1", UsageEvents.tenant("t1", "pro", "UTC"));
        for (int t = 2; t <= StoreLookups.DECODED_ENTRIES; t++) {
            decoded.of("t" + t, UsageEvents.tenant("t" + t, "pro", "UTC"));
            if (t % 1000 == 0) {
                decoded.of("t0", kept); // used now and then: stays
            }
        }
        decoded.of("t" + (StoreLookups.DECODED_ENTRIES + 1), UsageEvents.tenant("tx", "pro", "UTC"));

        assertThat(decoded.of("t0", kept)).isSameAs(first);
        assertThat(decoded.of("t1", UsageEvents.tenant("t1", "pro", "UTC"))).as("dropped, decoded again").isNotSameAs(firstT1)
                .isEqualTo(firstT1);
    }
}
