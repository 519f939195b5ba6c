package dev.tollgate.ledger;

import dev.tollgate.service.ProblemFallback;
import dev.tollgate.service.http.RequestBodyLimits;
import dev.tollgate.service.telemetry.ServiceTelemetry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Import;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The ledger: the event-sourced system of record for tenants, plans, price lists, limits and API
 * keys (Axon Framework, events stored in PostgreSQL through Axon's JDBC engine, no Axon Server),
 * behind the admin API on port 8081.
 */
@SpringBootApplication
@Import({ServiceTelemetry.class, ProblemFallback.class, RequestBodyLimits.class})
@ConfigurationPropertiesScan
@EnableScheduling
public class LedgerApplication {
    static {
        // Axon 4.12+ phones home with an "update checker"; a billing system does not (ADR 0006).
        if (System.getProperty("axoniq.update-checker.disabled") == null) {
            System.setProperty("axoniq.update-checker.disabled", "true");
        }
    }

    public static void main(String[] args) {
        SpringApplication.run(LedgerApplication.class, args);
    }
}
