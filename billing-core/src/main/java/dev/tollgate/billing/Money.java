package dev.tollgate.billing;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * Money arithmetic in integer micro-units (1 unit of currency = 1,000,000 micros). Never floating
 * point. See ADR 0003 for why amounts are rounded exactly once, per invoice line, half-even.
 */
public final class Money {
    /** Micro-units per unit of currency. */
    public static final long MICROS_PER_UNIT = 1_000_000L;
    /** Prices are quoted per this many tokens. */
    public static final long TOKENS_PER_PRICE_UNIT = 1_000_000L;

    private static final BigInteger PRICE_DIVISOR = BigInteger.valueOf(TOKENS_PER_PRICE_UNIT);

    private Money() {}

    /**
     * The amount of one invoice line: {@code tokens x microsPerMillionTokens / 1,000,000}, rounded
     * once, half-even, to a whole micro-unit. Exact for any token count: no intermediate overflow.
     *
     * @throws ArithmeticException if the result does not fit a long (a bill above 9.2 trillion units)
     */
    public static long lineAmountMicros(long tokens, long microsPerMillionTokens) {
        if (tokens < 0 || microsPerMillionTokens < 0) {
            throw new IllegalArgumentException("tokens and prices are never negative");
        }
        BigInteger exact = BigInteger.valueOf(tokens).multiply(BigInteger.valueOf(microsPerMillionTokens));
        return new BigDecimal(exact).divide(new BigDecimal(PRICE_DIVISOR), 0, RoundingMode.HALF_EVEN)
                .longValueExact();
    }

    /**
     * The same product, unrounded, as an exact decimal of micro-units: what an auditor compares the
     * rounded line against (the difference is always at most half a micro-unit).
     */
    public static BigDecimal exactAmountMicros(long tokens, long microsPerMillionTokens) {
        return new BigDecimal(BigInteger.valueOf(tokens).multiply(BigInteger.valueOf(microsPerMillionTokens)))
                .divide(new BigDecimal(PRICE_DIVISOR));
    }

    /** Renders micros as a decimal amount with six places, e.g. {@code 12.345678}, for humans only. */
    public static String format(long micros) {
        return BigDecimal.valueOf(micros, 6).toPlainString();
    }

    /** Converts micros to the currency's minor unit (cents for USD/EUR), half-even: for Stripe, which counts in minor units. */
    public static long toMinorUnits(long micros, int minorUnitDigits) {
        if (minorUnitDigits < 0 || minorUnitDigits > 6) {
            throw new IllegalArgumentException("minorUnitDigits must be within 0..6");
        }
        return BigDecimal.valueOf(micros, 6).setScale(minorUnitDigits, RoundingMode.HALF_EVEN).unscaledValue().longValueExact();
    }
}
