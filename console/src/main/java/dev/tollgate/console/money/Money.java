package dev.tollgate.console.money;

import java.math.BigDecimal;

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
}
