package dev.tollgate.console.money;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MoneyTest {

    @Test
    void everyMicroUnitIsShownAndAtLeastCents() {
        assertThat(Money.format(1_234_567, "USD")).isEqualTo("USD 1.234567");
        assertThat(Money.format(1_500_000, "USD")).isEqualTo("USD 1.50");
        assertThat(Money.format(0, "EUR")).isEqualTo("EUR 0.00");
        assertThat(Money.format(1, "USD")).isEqualTo("USD 0.000001");
        assertThat(Money.format(-2_500_000, "USD")).isEqualTo("USD -2.50");
        assertThat(Money.format(Long.MAX_VALUE, "USD")).isEqualTo("USD 9223372036854.775807");
    }
}
