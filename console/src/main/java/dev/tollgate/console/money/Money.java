package dev.tollgate.console.money;

import java.math.BigDecimal;
import java.util.OptionalLong;

/** Amounts in integer micro-units of a currency, written for people: exact, never through floating point. */
public final class Money {
    private Money() {}

    /** {@code 1234567} USD is {@code "USD 1.234567"}; {@code 1500000} is {@code "USD 1.50"}: at least cents, every micro-unit kept. */
    public static String format(long micros, String currency) {
        BigDecimal amount = BigDecimal.valueOf(micros, 6).stripTrailingZeros();
        if (amount.scale() < 2) {
            amount = amount.setScale(2);
        }
        return (currency == null ? "" : currency + " ") + amount.toPlainString();
    }

    /**
     * What a person typed as an amount of the currency ({@code "5"}, {@code "12.50"}) in micro-units; empty for anything
     * else (more than six decimals, a sign, an exponent, a value above a billion units).
     */
    public static OptionalLong parse(String units) {
        if (units == null || !units.strip().matches("\\d{1,9}(\\.\\d{1,6})?")) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(new BigDecimal(units.strip()).movePointRight(6).longValueExact());
    }
}
