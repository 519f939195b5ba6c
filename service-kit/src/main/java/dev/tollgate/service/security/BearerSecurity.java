package dev.tollgate.service.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.service.Problems;
import dev.tollgate.service.telemetry.RequestTelemetryFilter;
import dev.tollgate.telemetry.LogFields;
import io.opentelemetry.api.trace.Span;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import org.slf4j.MDC;
import org.springframework.http.HttpStatus;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter;
import org.springframework.security.web.SecurityFilterChain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import javax.crypto.spec.SecretKeySpec;

/**
 * The admin and billing APIs accept only JWT bearer tokens: HS256 with a shared secret in
 * development, keys from a JWKS URI in production; issuer and audience always checked.
 * Authentication and authorization failures answer in RFC 9457 problem details like every other
 * error; responses carry the usual security headers (no sniffing, no framing, no caching).
 */
public final class BearerSecurity {
    private BearerSecurity() {}

    /**
     * A stateless chain: {@code publicPaths} and error dispatches open to all, the log-level endpoint ({@code /loggers},
     * changes at run time) to platform admins only, everything else needs a valid token.
     */
    public static SecurityFilterChain chain(HttpSecurity http, ObjectMapper mapper, String... publicPaths) throws Exception {
        http.csrf(csrf -> csrf.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                // The container's own error answers (a body that stopped arriving: Tomcat's 408) are rendered by
                // ProblemErrors for whoever caused them, token or not; they carry nothing but the status.
                .authorizeHttpRequests(auth -> auth.dispatcherTypeMatchers(DispatcherType.ERROR).permitAll()
                        .requestMatchers(publicPaths).permitAll()
                        .requestMatchers("/loggers", "/loggers/**", "/actuator/loggers", "/actuator/loggers/**")
                        .access((authentication, context) -> new AuthorizationDecision(
                                authentication.get() instanceof JwtAuthenticationToken token
                                        && Caller.of(token.getToken()).has(Role.PLATFORM_ADMIN)))
                        .anyRequest().authenticated())
                .addFilterAfter(BearerSecurity::callerInLogs, BearerTokenAuthenticationFilter.class)
                .oauth2ResourceServer(oauth -> oauth.jwt(jwt -> { })
                        .authenticationEntryPoint((request, response, e) ->
                                Problems.write(response, mapper, HttpStatus.UNAUTHORIZED, "unauthenticated",
                                        "a valid bearer token is required")))
                .exceptionHandling(ex -> ex.accessDeniedHandler((request, response, e) ->
                        Problems.write(response, mapper, HttpStatus.FORBIDDEN, "forbidden", "access denied")));
        return http.build();
    }

    /** Puts the verified caller's tenant and subject in the MDC and on the request's span. */
    private static void callerInLogs(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (SecurityContextHolder.getContext().getAuthentication() instanceof JwtAuthenticationToken token) {
            Caller caller = Caller.of(token.getToken());
            if (caller.tenant() != null) {
                MDC.put(LogFields.TENANT_ID, caller.tenant());
                Span.current().setAttribute(RequestTelemetryFilter.TENANT_ATTRIBUTE, caller.tenant());
            }
            if (caller.subject() != null) {
                MDC.put(LogFields.SUBJECT, caller.subject());
            }
        }
        chain.doFilter(request, response);
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
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(JwtValidators.createDefaultWithIssuer(settings.issuer()),
                audience(settings.audience()), new TokenLifetime(settings.maxTokenLifetime(), Clock.systemUTC())));
        return decoder;
    }

    private static OAuth2TokenValidator<Jwt> audience(String audience) {
        return token -> token.getAudience() != null && token.getAudience().contains(audience)
                ? OAuth2TokenValidatorResult.success()
                : OAuth2TokenValidatorResult.failure(new OAuth2Error("invalid_token", "the token is not for " + audience, null));
    }
}
