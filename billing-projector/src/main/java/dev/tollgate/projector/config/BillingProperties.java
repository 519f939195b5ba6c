package dev.tollgate.projector.config;

import dev.tollgate.service.security.JwtSettings;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * Typed configuration of the billing service ({@code tollgate.*}); a bad value fails start-up naming the key.
 *
 * @param instanceId    names this replica in logs
 * @param kafka         the cluster with usage.v1 and the ledger's topics
 * @param projector     the Kafka Streams application (ADR 0008)
 * @param invoiceWriter the consumer that writes usage.billed.v1 into PostgreSQL
 * @param jwt           how the billing API authenticates callers (the same tokens as the admin API)
 * @param stripe        where finalized invoices are pushed
 */
@Validated
@ConfigurationProperties(prefix = "tollgate")
public record BillingProperties(@NotBlank String instanceId, @Valid Kafka kafka, @Valid Projector projector,
                                @Valid InvoiceWriter invoiceWriter, @Valid JwtSettings jwt, @Valid Stripe stripe, @Valid Webhooks webhooks) {

    /**
     * Budget alerts to tenants' webhooks.
     *
     * @param masterKey           the ledger's webhook master key (derives each tenant's signing secret); empty: not sent
     * @param allowPrivateTargets allow loopback, private and link-local targets (SSRF protection off)
     * @param maxAttempts         deliveries tried this often, with exponential backoff, before FAILED
     * @param initialBackoff      the first retry's delay (doubling, at most 10 minutes)
     */
    public record Webhooks(String masterKey, boolean allowPrivateTargets, @Min(1) int maxAttempts, @NotNull Duration initialBackoff) {
        public boolean enabled() {
            return masterKey != null && masterKey.length() >= 32;
        }
    }

    public record Kafka(@NotBlank String bootstrapServers) {}

    /**
     * @param enabled         false runs this instance as invoice writer and API only (the projector runs elsewhere)
     * @param applicationId   the Kafka Streams application id (shared by all instances)
     * @param stateDir        where RocksDB state lives (a persistent volume in production)
     * @param advertisedHost  the host other instances reach this one's billing API at (interactive queries)
     * @param grace           how long after a period's end (stream time) its events still bill on it
     * @param dedupHorizon    how long event ids are remembered (longer than any producer retry)
     * @param quotaEmitInterval at most one quota state per window per interval
     * @param minuteRetention how long per-minute usage is kept
     * @param standbyReplicas warm copies of each task's state on other instances
     */
    public record Projector(boolean enabled, @NotBlank String applicationId, @NotBlank String stateDir, @NotBlank String advertisedHost,
                            @NotNull Duration grace, @NotNull Duration dedupHorizon, @NotNull Duration quotaEmitInterval,
                            @NotNull Duration minuteRetention, @Min(0) int standbyReplicas) {}

    /** @param groupId the consumer group of the invoice writers (one active per partition) */
    public record InvoiceWriter(@NotBlank String groupId) {}

    /**
     * @param apiKey            the secret key (sk_...); empty disables Stripe sync (the endpoint answers 503)
     * @param apiBase           Stripe's API base (a local fake in tests)
     * @param webhookSecret     the endpoint's signing secret (whsec_...); empty refuses every webhook
     * @param maxNetworkRetries stripe-java's own retries (same idempotency key, exponential backoff)
     * @param daysUntilDue      invoices are sent for payment, due this many days after finalization
     * @param minorUnitDigits   decimals of the currency's minor unit (2 for USD and EUR)
     */
    public record Stripe(String apiKey, @NotBlank String apiBase, String webhookSecret, @Min(0) int maxNetworkRetries,
                         @Min(1) long daysUntilDue, @Min(0) int minorUnitDigits) {
        public boolean enabled() {
            return apiKey != null && !apiKey.isBlank();
        }
    }
}
