package dev.tollgate.gateway.auth;

import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.SecretHash;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Authenticates {@code Authorization: Bearer tg_<keyId>_<secret>} against the in-memory key state.
 * Malformed, unknown, wrong, expired, revoked and past-grace keys all get the same 401, so a caller
 * learns nothing about which keys exist. Verification is one SHA-256 and a constant-time compare per
 * valid secret (ADR 0005), cheap enough that no cache of verified secrets is kept: such a cache
 * would only be plaintext-equivalent material in memory.
 */
public final class Authenticator {
    private static final String BEARER = "bearer ";

    private final KeyLookup lookup;

    public Authenticator(KeyLookup lookup) {
        this.lookup = lookup;
    }

    /** The outcome: a principal, or the error to answer with. */
    public sealed interface Result permits Authenticated, Refused {}

    public record Authenticated(Principal principal) implements Result {}

    /**
     * @param keyId the key id the caller presented, if it could be parsed (for the rejection event)
     */
    public record Refused(GatewayError error, String keyId, String tenantId) implements Result {
        /** True if the caller presented something that is not a working key (a guess, a typo, a revoked key). */
        public boolean badCredentials() {
            return "invalid_api_key".equals(error.code()) || "missing_api_key".equals(error.code());
        }
    }

    /** Verified against when a key id is unknown; matches nothing anyone can present. */
    private static final SecretHash UNKNOWN_KEY =
            ApiKeys.hash(ApiKeys.newKeyId(), UUID.randomUUID().toString());

    /** The key id a bearer header names, if it has the shape of a key (nothing is verified). */
    public static String presentedKeyId(String authorization) {
        if (authorization == null || authorization.length() <= BEARER.length()
                || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        return ApiKeys.parse(authorization.substring(BEARER.length()).strip()).map(ApiKeys.PresentedKey::keyId).orElse(null);
    }

    public Result authenticate(String authorization, Instant now) {
        if (authorization == null || authorization.isBlank()) {
            return new Refused(GatewayError.missingKey(), null, null);
        }
        if (authorization.length() <= BEARER.length()
                || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return new Refused(GatewayError.invalidKey(), null, null);
        }
        Optional<ApiKeys.PresentedKey> presented = ApiKeys.parse(authorization.substring(BEARER.length()).strip());
        if (presented.isEmpty()) {
            return new Refused(GatewayError.invalidKey(), null, null);
        }
        String keyId = presented.get().keyId();
        Optional<KeyState> key = lookup.key(keyId);
        if (key.isEmpty()) {
            // As much work as for a known key, so that timing does not tell which key ids exist.
            ApiKeys.verify(presented.get(), UNKNOWN_KEY);
            return new Refused(GatewayError.invalidKey(), keyId, null);
        }
        if (!valid(key.get(), presented.get(), now)) {
            return new Refused(GatewayError.invalidKey(), keyId, key.map(KeyState::tenantId).orElse(null));
        }
        Optional<TenantState> tenant = lookup.tenant(key.get().tenantId());
        if (tenant.isEmpty()) {
            return new Refused(GatewayError.invalidKey(), keyId, key.get().tenantId());
        }
        if (tenant.get().status() != TenantState.Status.ACTIVE) {
            return new Refused(GatewayError.tenantSuspended(), keyId, key.get().tenantId());
        }
        KeyState k = key.get();
        return new Authenticated(new Principal(k.tenantId(), k.keyId(), k.allowedModels(), k.limits(), tenant.get().limits(),
                tenant.get().planId(), k.scopes()));
    }

    private static boolean valid(KeyState key, ApiKeys.PresentedKey presented, Instant now) {
        if (key.status() != KeyState.Status.ACTIVE || (key.expiresAt() != null && !now.isBefore(key.expiresAt()))) {
            return false;
        }
        boolean match = false;
        for (KeyState.Secret secret : key.secrets()) {
            boolean current = secret.validUntil() == null || now.isBefore(secret.validUntil());
            // Every secret is checked, so the time taken does not depend on which one matches.
            match |= ApiKeys.verify(presented, secret.hash()) & current;
        }
        return match;
    }
}
