package dev.tollgate.schemas.key;

import dev.tollgate.schemas.ledger.SecretHash;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The API key format and its hash, shared by the ledger (which issues keys) and the gateway (which
 * verifies them on every request). See ADR 0005.
 *
 * <p>A key is {@code tg_<keyId>_<secret>}: the key id (16 base62 characters) is public and names the
 * key everywhere; the secret (43 base62 characters, about 256 bits from {@link SecureRandom}) is
 * shown to the caller once and stored only as {@code SHA-256("tollgate/api-key/v1" 0 keyId 0 secret)}.
 * A fast hash is safe here because the secret is random and long (no dictionary to try); a slow hash
 * would cost milliseconds per request in the gateway.
 */
public final class ApiKeys {
    /** Every key starts with this. */
    public static final String PREFIX = "tg_";
    /** The algorithm name stored with each hash. */
    public static final String ALGORITHM = "sha256-v1";
    public static final int KEY_ID_LENGTH = 16;
    public static final int SECRET_LENGTH = 43;

    private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final byte[] DOMAIN = "tollgate/api-key/v1".getBytes(StandardCharsets.UTF_8);
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {}

    /** A key as presented by a caller: the public id and the secret (never log the latter). */
    public record PresentedKey(String keyId, String secret) {
        @Override
        public String toString() {
            return "PresentedKey[" + keyId + ", <secret>]";
        }
    }

    /** A freshly generated key: the full token to hand out once, and what may be stored. */
    public record NewKey(String keyId, String token, SecretHash hash) {
        @Override
        public String toString() {
            return "NewKey[" + keyId + ", <token>]";
        }
    }

    /** A new random key id (for {@link #issue}). */
    public static String newKeyId() {
        return random(KEY_ID_LENGTH);
    }

    /** Generates a secret for {@code keyId} and returns the token and its hash. */
    public static NewKey issue(String keyId) {
        requireKeyId(keyId);
        String secret = random(SECRET_LENGTH);
        return new NewKey(keyId, PREFIX + keyId + "_" + secret, hash(keyId, secret));
    }

    /** Parses {@code tg_<keyId>_<secret>}; empty for anything else (never throws on bad input). */
    public static Optional<PresentedKey> parse(String token) {
        if (token == null || token.length() != PREFIX.length() + KEY_ID_LENGTH + 1 + SECRET_LENGTH
                || !token.startsWith(PREFIX) || token.charAt(PREFIX.length() + KEY_ID_LENGTH) != '_') {
            return Optional.empty();
        }
        String keyId = token.substring(PREFIX.length(), PREFIX.length() + KEY_ID_LENGTH);
        String secret = token.substring(PREFIX.length() + KEY_ID_LENGTH + 1);
        if (!isBase62(keyId) || !isBase62(secret)) {
            return Optional.empty();
        }
        return Optional.of(new PresentedKey(keyId, secret));
    }

    /** The stored form of {@code secret} for {@code keyId}. */
    public static SecretHash hash(String keyId, String secret) {
        return new SecretHash(ALGORITHM, Base64.getUrlEncoder().withoutPadding().encodeToString(digest(keyId, secret)));
    }

    /**
     * True if {@code presented} matches {@code stored}. Compares in constant time; an unknown
     * algorithm never matches.
     */
    public static boolean verify(PresentedKey presented, SecretHash stored) {
        if (!ALGORITHM.equals(stored.algorithm())) {
            return false;
        }
        byte[] expected;
        try {
            expected = Base64.getUrlDecoder().decode(stored.value());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(expected, digest(presented.keyId(), presented.secret()));
    }

    /** True if {@code keyId} has the shape of a key id. */
    public static boolean isKeyId(String keyId) {
        return keyId != null && keyId.length() == KEY_ID_LENGTH && isBase62(keyId);
    }

    private static void requireKeyId(String keyId) {
        if (!isKeyId(keyId)) {
            throw new IllegalArgumentException("a key id is " + KEY_ID_LENGTH + " base62 characters");
        }
    }

    private static byte[] digest(String keyId, String secret) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(DOMAIN);
            sha256.update((byte) 0);
            sha256.update(keyId.getBytes(StandardCharsets.US_ASCII));
            sha256.update((byte) 0);
            sha256.update(secret.getBytes(StandardCharsets.US_ASCII));
            return sha256.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static String random(int length) {
        var chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = BASE62.charAt(RANDOM.nextInt(BASE62.length()));
        }
        return new String(chars);
    }

    private static boolean isBase62(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return false;
            }
        }
        return true;
    }
}
