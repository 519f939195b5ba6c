package dev.tollgate.projector;

import dev.tollgate.service.ProblemFallback;
import dev.tollgate.service.http.RequestBodyLimits;
import dev.tollgate.service.telemetry.ServiceTelemetry;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.scheduling.annotation.EnableScheduling;

import java.time.Clock;

/**
 * The billing service: the projector (Kafka Streams), the invoice writer (usage.billed.v1 into
 * PostgreSQL), the billing API (default port 8082) and Stripe sync, in one deployable (ADR 0008).
 * Its configuration file is {@code billing.yml}.
 */
@SpringBootApplication
@Import({ServiceTelemetry.class, ProblemFallback.class, RequestBodyLimits.class})
@ConfigurationPropertiesScan
@EnableScheduling
public class BillingServiceApplication {

    /** A builder with this service's configuration name, for main and for embedding (dev stack, tests). */
    public static SpringApplicationBuilder builder() {
        return new SpringApplicationBuilder(BillingServiceApplication.class).properties("spring.config.name=billing");
    }

    /** "Now" for everything that computes a date; an embedding test registers a fixed one first. */
    @Bean
    @ConditionalOnMissingBean
    Clock clock() {
        return Clock.systemUTC();
    }

    public static void main(String[] args) {
        builder().run(args);
    }
}
