package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.SecretHash;

import java.time.Instant;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * What the gateway needs to authenticate one API key ({@code keys.state.v1}, key = key id).
 *
 * @param secrets the currently valid secret hashes: one, or two during a rotation's grace period
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KeyState(
        String keyId,
        String tenantId,
        String name,
        Status status,
        List<Secret> secrets,
        List<String> scopes,
        List<String> allowedModels,
        Limits limits,
        Instant expiresAt,
        @JsonProperty(required = true) long version,
        Instant updatedAt) implements StateRecord {

    /** Lifecycle of a key; only ACTIVE keys authenticate. */
    public enum Status { ACTIVE, REVOKED, EXPIRED }

    /**
     * One valid secret hash.
     *
     * @param validUntil null for the current secret; the end of the grace period for a rotated one
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Secret(SecretHash hash, Instant validUntil) {
        public Secret {
            required(hash, "hash");
        }
    }

    public KeyState {
        requiredText(keyId, "keyId");
        requiredText(tenantId, "tenantId");
        required(status, "status");
        secrets = listOrEmpty(required(secrets, "secrets"));
        scopes = listOrEmpty(scopes);
        allowedModels = listOrEmpty(allowedModels);
        required(updatedAt, "updatedAt");
    }

    @Override
    public String stateKey() {
        return keyId;
    }
}
