package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * Where a tenant's budget alerts go ({@code ledger.webhook.configured}). The signing secret is not
 * in the event: it is derived from the platform's webhook master key, the tenant and
 * {@code secretVersion} ({@link dev.tollgate.schemas.key.WebhookSecrets}); each configuration
 * increments the version, which rotates the secret.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record WebhookConfigured(String tenantId, String url, @JsonProperty(required = true) int secretVersion)
        implements EventData {
    public WebhookConfigured {
        requiredText(tenantId, "tenantId");
        requiredText(url, "url");
        if (secretVersion < 1) {
            throw new IllegalArgumentException("field 'secretVersion' must be >= 1, was " + secretVersion);
        }
    }
}
