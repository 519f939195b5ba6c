package dev.tollgate.service.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.service.Problems;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.web.SecurityFilterChain;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;

/**
 * The admin and billing APIs accept only JWT bearer tokens: HS256 with a shared secret in
 * development, keys from a JWKS URI in production; issuer and audience always checked.
 * Authentication and authorization failures answer in RFC 9457 problem details like every other
 * error; responses carry the usual security headers (no sniffing, no framing, no caching).
 */
public final class BearerSecurity {
    private BearerSecurity() {}

    /** A stateless chain: {@code publicPaths} open to all, everything else needs a valid token. */
    public static SecurityFilterChain chain(HttpSecurity http, ObjectMapper mapper, String... publicPaths) throws Exception {
        http.csrf(csrf -> csrf.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .authorizeHttpRequests(auth -> auth.requestMatchers(publicPaths).permitAll().anyRequest().authenticated())
                .oauth2ResourceServer(oauth -> oauth.jwt(jwt -> { })
                        .authenticationEntryPoint((request, response, e) ->
                                Problems.write(response, mapper, HttpStatus.UNAUTHORIZED, "unauthenticated",
                                        "a valid bearer token is required")))
                .exceptionHandling(ex -> ex.accessDeniedHandler((request, response, e) ->
                        Problems.write(response, mapper, HttpStatus.FORBIDDEN, "forbidden", "access denied")));
        return http.build();
    }

    /** The decoder for {@code settings}; refuses ambiguous or weak configuration at start-up. */
    public static JwtDecoder decoder(JwtSettings settings) {
        boolean hasSecret = settings.hs256Secret() != null && !settings.hs256Secret().isBlank();
        boolean hasJwks = settings.jwksUri() != null && !settings.jwksUri().isBlank();
        if (hasSecret == hasJwks) {
            throw new IllegalStateException("set exactly one of tollgate.jwt.hs256-secret (development) and tollgate.jwt.jwks-uri (production)");
        }
        NimbusJwtDecoder decoder;
        if (hasSecret) {
            byte[] secret = settings.hs256Secret().getBytes(StandardCharsets.UTF_8);
            if (secret.length < 32) {
                throw new IllegalStateException("tollgate.jwt.hs256-secret must be at least 32 bytes");
            }
            decoder = NimbusJwtDecoder.withSecretKey(new SecretKeySpec(secret, "HmacSHA256")).macAlgorithm(MacAlgorithm.HS256).build();
        } else {
            decoder = NimbusJwtDecoder.withJwkSetUri(settings.jwksUri()).build();
        }
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(
                JwtValidators.createDefaultWithIssuer(settings.issuer()), audience(settings.audience())));
        return decoder;
    }

    private static OAuth2TokenValidator<Jwt> audience(String audience) {
        return token -> token.getAudience() != null && token.getAudience().contains(audience)
                ? OAuth2TokenValidatorResult.success()
                : OAuth2TokenValidatorResult.failure(new OAuth2Error("invalid_token", "the token is not for " + audience, null));
    }
}
