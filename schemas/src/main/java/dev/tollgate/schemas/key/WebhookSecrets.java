package dev.tollgate.schemas.key;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;

/**
 * Webhook signing secrets, derived rather than stored: {@code whsec_} + base64url(HMAC-SHA256(master
 * key, "tollgate/webhook/v1" 0 tenantId 0 version)). The ledger shows a tenant its secret once; the
 * component that sends alerts derives the same secret from the same master key. Nothing at rest
 * (event store, topics, tables) holds it. See ADR 0005.
 */
public final class WebhookSecrets {
    /** Shortest master key accepted, in bytes. */
    public static final int MIN_MASTER_KEY_BYTES = 32;

    private WebhookSecrets() {}

    /** The signing secret of version {@code version} of {@code tenantId}'s webhook. */
    public static String derive(byte[] masterKey, String tenantId, int version) {
        if (masterKey.length < MIN_MASTER_KEY_BYTES) {
            throw new IllegalArgumentException("the webhook master key must be at least " + MIN_MASTER_KEY_BYTES + " bytes");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(masterKey, "HmacSHA256"));
            mac.update("tollgate/webhook/v1".getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(tenantId.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(Integer.toString(version).getBytes(StandardCharsets.UTF_8));
            return "whsec_" + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }
}
