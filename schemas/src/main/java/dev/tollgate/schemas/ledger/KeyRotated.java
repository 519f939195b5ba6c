package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A key got a new secret ({@code ledger.key.rotated}); the previous one stays valid until
 * {@code previousSecretValidUntil} (the grace period), then only the new one is.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record KeyRotated(String keyId, String tenantId, SecretHash newSecretHash, Instant previousSecretValidUntil)
        implements EventData {
    public KeyRotated {
        requiredText(keyId, "keyId");
        requiredText(tenantId, "tenantId");
        required(newSecretHash, "newSecretHash");
        required(previousSecretValidUntil, "previousSecretValidUntil");
    }
}
