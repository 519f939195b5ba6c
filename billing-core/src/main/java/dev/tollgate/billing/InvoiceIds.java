package dev.tollgate.billing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Invoice ids are derived from (tenant, period): every writer and every replay names an invoice alike. */
public final class InvoiceIds {
    private InvoiceIds() {}

    /** {@code inv_} and 24 hex digits of SHA-256 over {@code tenant|period}. */
    public static String of(String tenantId, String period) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest((tenantId + "|" + period).getBytes(StandardCharsets.UTF_8));
            return "inv_" + HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
