package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/** A key was revoked, effective immediately ({@code ledger.key.revoked}). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record KeyRevoked(String keyId, String tenantId, String reason) implements EventData {
    public KeyRevoked {
        requiredText(keyId, "keyId");
        requiredText(tenantId, "tenantId");
        requiredText(reason, "reason");
    }
}
