package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * An API key was issued ({@code ledger.key.issued}). Carries only the secret's hash.
 *
 * @param allowedModels the models the key may call; empty means every model of the tenant's plan
 * @param limits        per-key limits on top of the tenant's; null for none
 * @param expiresAt     null for a key that does not expire
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KeyIssued(
        String keyId,
        String tenantId,
        String name,
        SecretHash secretHash,
        List<String> scopes,
        List<String> allowedModels,
        Limits limits,
        Instant expiresAt) implements EventData {
    public KeyIssued {
        requiredText(keyId, "keyId");
        requiredText(tenantId, "tenantId");
        requiredText(name, "name");
        required(secretHash, "secretHash");
        scopes = listOrEmpty(scopes);
        allowedModels = listOrEmpty(allowedModels);
    }
}
