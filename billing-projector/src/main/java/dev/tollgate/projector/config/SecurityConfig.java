package dev.tollgate.projector.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.service.security.BearerSecurity;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.web.SecurityFilterChain;

/** The billing API takes the admin API's JWTs; health, metrics (no tenant labels) and Stripe's (signed) webhook are open. */
@Configuration
public class SecurityConfig {

    @Bean
    public SecurityFilterChain billingApi(HttpSecurity http, ObjectMapper mapper) throws Exception {
        return BearerSecurity.chain(http, mapper, "/health/**", "/health", "/info", "/metrics", "/billing/v1/stripe/webhook");
    }

    @Bean
    public JwtDecoder jwtDecoder(BillingProperties properties) {
        return BearerSecurity.decoder(properties.jwt());
    }
}
