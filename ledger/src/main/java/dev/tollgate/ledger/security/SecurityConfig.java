package dev.tollgate.ledger.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.ledger.config.LedgerProperties;
import dev.tollgate.service.security.BearerSecurity;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.web.SecurityFilterChain;

/** The admin API: JWT bearer tokens only (see {@link BearerSecurity}); health and the OpenAPI document are public. */
@Configuration
public class SecurityConfig {

    @Bean
    public SecurityFilterChain adminApi(HttpSecurity http, ObjectMapper mapper) throws Exception {
        return BearerSecurity.chain(http, mapper, "/health/**", "/health", "/info", "/metrics",
                "/admin/v1/openapi.json", "/admin/v1/openapi.json/**");
    }

    @Bean
    public JwtDecoder jwtDecoder(LedgerProperties properties) {
        return BearerSecurity.decoder(properties.jwt());
    }
}
