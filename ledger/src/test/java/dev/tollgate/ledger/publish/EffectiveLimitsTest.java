package dev.tollgate.ledger.publish;

import dev.tollgate.schemas.ledger.Limits;
import org.junit.jupiter.api.Test;

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
}
