package dev.tollgate.ledger.publish;

import dev.tollgate.schemas.ledger.Limits;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EffectiveLimitsTest {

    @Test
    void aTenantsOwnSchedulingClassAndWeightOverrideItsPlansAndAbsentOnesFallBackToThePlans() {
        Limits plan = new Limits(600L, null, null, null, null, 32L, "standard", 2);
        assertThat(EffectiveLimits.merge(plan, new Limits(null, null, null, null, null, null, "interactive", null)))
                .isEqualTo(new Limits(600L, null, null, null, null, 32L, "interactive", 2));
        assertThat(EffectiveLimits.merge(plan, new Limits(null, null, null, null, null, null, null, 5)))
                .isEqualTo(new Limits(600L, null, null, null, null, 32L, "standard", 5));
        assertThat(EffectiveLimits.merge(plan, null)).isEqualTo(plan);
    }

    @Test
    void aTenantsOwnEndpointListReplacesItsPlansAndWithoutOneThePlansHolds() {
        Limits plan = new Limits(600L, null, null, null, null, null, null, null, List.of("chat.completions", "embeddings"));
        assertThat(EffectiveLimits.merge(plan, new Limits(null, null, null, null, null, null, null, null, List.of("audio.transcriptions"))))
                .isEqualTo(new Limits(600L, null, null, null, null, null, null, null, List.of("audio.transcriptions")));
        assertThat(EffectiveLimits.merge(plan, Limits.NONE)).isEqualTo(plan);
    }
}
