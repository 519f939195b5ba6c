package dev.tollgate.service.security;

import jakarta.validation.constraints.NotBlank;

/**
 * How an API authenticates callers. Exactly one of {@code hs256Secret} (development) and
 * {@code jwksUri} (production) is set.
 *
 * @param issuer   the required {@code iss}
 * @param audience the required entry of {@code aud}
 */
public record JwtSettings(String hs256Secret, String jwksUri, @NotBlank String issuer, @NotBlank String audience) {}
