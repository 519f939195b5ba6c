package dev.tollgate.service.security;

import jakarta.validation.constraints.NotBlank;

import java.time.Duration;

/**
 * How an API authenticates callers. Exactly one of {@code hs256Secret} (development) and
 * {@code jwksUri} (production) is set.
 *
 * @param issuer   the required {@code iss}
 * @param audience the required entry of {@code aud}
 * @param maxTokenLifetime the longest {@code exp - iat} accepted (default 24 hours; {@link TokenLifetime})
 */
public record JwtSettings(String hs256Secret, String jwksUri, @NotBlank String issuer, @NotBlank String audience, Duration maxTokenLifetime) {
    public JwtSettings {
        maxTokenLifetime = maxTokenLifetime == null ? TokenLifetime.DEFAULT_MAX_LIFETIME : maxTokenLifetime;
    }
}
