package dev.tollgate.billing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MoneyTest {

    @ParameterizedTest(name = "{0} tokens at {1} micros/M = {2} micros")
    @CsvSource({
            // exact products need no rounding
            "1000000, 600000, 600000",
            "213, 600000, 128",       // 127.8 -> 128
            // ties go to the even neighbour, so systematic rounding bias cancels out across lines
            "1, 500000, 0",           // 0.5 -> 0
            "3, 500000, 2",           // 1.5 -> 2
            "5, 500000, 2",           // 2.5 -> 2
            "7, 500000, 4",           // 3.5 -> 4
            "0, 600000, 0",
            "999999, 1, 1",           // 0.999999 -> 1
            "1, 499999, 0"            // 0.499999 -> 0
    })
    void lineAmountsRoundOnceHalfEven(long tokens, long price, long expected) {
        assertThat(Money.lineAmountMicros(tokens, price)).isEqualTo(expected);
    }

    @Test
    void hugeTokenCountsDoNotOverflowInTheProduct() {
        // 10^13 tokens at 10^9 micros per million: the product (10^22) overflows a long, the result does not.
        assertThat(Money.lineAmountMicros(10_000_000_000_000L, 1_000_000_000L)).isEqualTo(10_000_000_000_000_000L);
    }

    @Test
    void roundingOncePerLineDiffersFromRoundingPerEvent() {
        // 1,000 requests of 1 output token at 0.6 micros each: per-event rounding would bill 1,000 micros.
        long perEvent = 0;
        for (int i = 0; i < 1000; i++) {
            perEvent += Money.lineAmountMicros(1, 600_000);
        }
        assertThat(perEvent).isEqualTo(1000);
        assertThat(Money.lineAmountMicros(1000, 600_000)).isEqualTo(600);
    }

    @Test
    void theRoundedLineIsWithinHalfAMicroOfTheExactAmount() {
        for (long tokens = 0; tokens < 5000; tokens += 37) {
            BigDecimal exact = Money.exactAmountMicros(tokens, 123_457);
            BigDecimal rounded = BigDecimal.valueOf(Money.lineAmountMicros(tokens, 123_457));
            assertThat(exact.subtract(rounded).abs()).isLessThanOrEqualTo(new BigDecimal("0.5"));
        }
    }

    @Test
    void minorUnitsForStripeRoundHalfEven() {
        assertThat(Money.toMinorUnits(12_345_000, 2)).isEqualTo(1234);   // 12.345 -> 12.34
        assertThat(Money.toMinorUnits(12_355_000, 2)).isEqualTo(1236);   // 12.355 -> 12.36
        assertThat(Money.toMinorUnits(12_345_678, 0)).isEqualTo(12);     // JPY-like
    }

    @Test
    void negativeInputsAreRefused() {
        assertThatThrownBy(() -> Money.lineAmountMicros(-1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void formatShowsSixDecimals() {
        assertThat(Money.format(12_345_678)).isEqualTo("12.345678");
        assertThat(Money.format(5)).isEqualTo("0.000005");
    }
}
