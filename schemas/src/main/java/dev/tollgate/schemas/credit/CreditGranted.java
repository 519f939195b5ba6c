package dev.tollgate.schemas.credit;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.usage.Endpoint;

import java.time.Instant;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * Prepaid credit added to a tenant ({@code ledger.credit.granted}): {@code amountMicros} of the
 * tenant's currency, usable by usage whose event time is at or after {@code grantedAt} and before
 * {@code expiresAt} (if set), by the models listed (all when empty) and at the endpoints listed (all
 * when empty). Grants burn in the order of earliest expiry, then lowest {@code priority}, then oldest.
 *
 * @param externalId the payment that bought it (e.g. a Stripe Checkout Session id), unique per tenant; null for other sources
 * @param endpoints  the APIs it pays for (optional, added in v1: absent means all, as for every grant made before it existed)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreditGranted(String tenantId, String grantId, @JsonProperty(required = true) long amountMicros, CreditSource source,
                            String reason, Instant grantedAt, Instant expiresAt, @JsonProperty(required = true) int priority,
                            List<String> models, String externalId,
                            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Endpoint> endpoints) implements EventData {
    public CreditGranted {
        requiredText(tenantId, "tenantId");
        requiredText(grantId, "grantId");
        if (amountMicros <= 0) {
            throw new IllegalArgumentException("field 'amountMicros' must be > 0, was " + amountMicros);
        }
        required(source, "source");
        required(grantedAt, "grantedAt");
        if (expiresAt != null && !expiresAt.isAfter(grantedAt)) {
            throw new IllegalArgumentException("field 'expiresAt' must be after 'grantedAt'");
        }
        models = listOrEmpty(models);
        endpoints = listOrEmpty(endpoints);
    }

    /** A grant for every endpoint. */
    public CreditGranted(String tenantId, String grantId, long amountMicros, CreditSource source, String reason, Instant grantedAt,
                         Instant expiresAt, int priority, List<String> models, String externalId) {
        this(tenantId, grantId, amountMicros, source, reason, grantedAt, expiresAt, priority, models, externalId, null);
    }
}
