package dev.tollgate.service.security;

import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * What a bearer token must say about itself beyond its signature, issuer and audience (issue #19
 * item 9): who it is ({@code sub}), that it ends ({@code exp} required), that it does not live longer
 * than {@code maxLifetime} from when it was issued (or from now, without {@code iat}), and that it was
 * not issued in the future beyond {@link #CLOCK_SKEW}. A token that may live for ever is a stolen
 * credential that never stops working.
 */
public final class TokenLifetime implements OAuth2TokenValidator<Jwt> {
    /** How far the issuer's clock may run ahead of ours. */
    public static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
    /** The longest token lifetime accepted unless configured otherwise. */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(24);

    private final Duration maxLifetime;
    private final Clock clock;

    public TokenLifetime(Duration maxLifetime, Clock clock) {
        if (maxLifetime.isNegative() || maxLifetime.isZero()) {
            throw new IllegalArgumentException("tollgate.jwt.max-token-lifetime must be positive");
        }
        this.maxLifetime = maxLifetime;
        this.clock = clock;
    }

    @Override
    public OAuth2TokenValidatorResult validate(Jwt token) {
        if (token.getSubject() == null || token.getSubject().isBlank()) {
            return failure("the token names no subject (sub)");
        }
        Instant expires = token.getExpiresAt();
        if (expires == null) {
            return failure("the token has no expiry (exp)");
        }
        Instant now = clock.instant();
        Instant issued = token.getIssuedAt();
        if (issued != null && issued.equals(expires.minusSeconds(1))) {
            // Spring's MappedJwtClaimSetConverter fills a missing iat with exp - 1 s: treat that as no iat.
            issued = null;
        }
        if (issued != null && issued.isAfter(now.plus(CLOCK_SKEW))) {
            return failure("the token was issued in the future (iat)");
        }
        Instant from = issued == null ? now : issued;
        if (Duration.between(from, expires).compareTo(maxLifetime) > 0) {
            return failure("the token lives longer than " + maxLifetime.toHours() + " hours (exp - iat)");
        }
        return OAuth2TokenValidatorResult.success();
    }

    private static OAuth2TokenValidatorResult failure(String why) {
        return OAuth2TokenValidatorResult.failure(new OAuth2Error("invalid_token", why, null));
    }
}
