package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/** A key reached its {@code expiresAt} ({@code ledger.key.expired}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record KeyExpired(String keyId, String tenantId) implements EventData {
    public KeyExpired {
        requiredText(keyId, "keyId");
        requiredText(tenantId, "tenantId");
    }
}
