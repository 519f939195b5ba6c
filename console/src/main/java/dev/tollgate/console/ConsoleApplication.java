package dev.tollgate.console;

import dev.tollgate.service.telemetry.ServiceTelemetry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

import java.time.Clock;

/**
 * The console: server-rendered pages for tenants and operators (default port 8083), built only on
 * the public admin and billing APIs with the signed-in person's own token (ADR 0026). It keeps no
 * data of its own beyond the HTTP session. Its configuration file is {@code console.yml}.
 */
@SpringBootApplication
@Import(ServiceTelemetry.class)
@ConfigurationPropertiesScan
public class ConsoleApplication {

    /** A builder with this service's configuration name, for main and for embedding (dev stack). */
    public static SpringApplicationBuilder builder() {
        return new SpringApplicationBuilder(ConsoleApplication.class).properties("spring.config.name=console");
    }

    /** "Now" for "today" and "this month" in the tenant's zone; an embedding test may register a fixed one. */
    @Bean
    @ConditionalOnMissingBean
    Clock clock() {
        return Clock.systemUTC();
    }

    public static void main(String[] args) {
        SpringApplication application = builder().build();
        application.run(args);
    }
}
