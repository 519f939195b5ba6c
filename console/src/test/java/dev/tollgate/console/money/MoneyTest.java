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

    @Test
    void typedAmountsBecomeExactMicroUnitsAndAnythingElseIsRefused() {
        assertThat(Money.parse("5")).hasValue(5_000_000);
        assertThat(Money.parse(" 12.50 ")).hasValue(12_500_000);
        assertThat(Money.parse("0.000001")).hasValue(1);
        for (String bad : new String[] {"", "-5", "1e3", "0.0000001", "1,50", "1234567890", "abc", "5."}) {
            assertThat(Money.parse(bad)).as(bad).isEmpty();
        }
        assertThat(Money.parse(null)).isEmpty();
    }
}
