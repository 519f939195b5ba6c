package dev.tollgate.ledger.config;

import dev.tollgate.service.security.JwtSettings;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Typed configuration of the ledger ({@code tollgate.*}); a bad value fails start-up naming the key.
 *
 * @param instanceId         names this replica in the CloudEvents {@code source}
 * @param kafka              where the ledger publishes
 * @param jwt                how the admin API authenticates callers
 * @param keyExpirySweep     how often overdue keys are expired
 * @param webhookMasterKey   derives every tenant's webhook signing secret (ADR 0005); 32+ characters
 */
@Validated
@ConfigurationProperties(prefix = "tollgate")
public record LedgerProperties(@NotBlank String instanceId, Kafka kafka, @Valid JwtSettings jwt, Duration keyExpirySweep,
                               @NotBlank @Size(min = 32) String webhookMasterKey) {

    /**
     * @param bootstrapServers Kafka's {@code bootstrap.servers}
     * @param sendTimeout      how long one publish may take before the processor retries it; below Axon's 30 s
     *                         event-handler timeout, whose interrupt would stop the publishing processor instead
     */
    public record Kafka(@NotBlank String bootstrapServers, Duration sendTimeout) {}
}
