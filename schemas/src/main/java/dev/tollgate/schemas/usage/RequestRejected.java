package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * The gateway refused a request ({@code usage.request.rejected}); never charged. When no tenant
 * can be determined (an unknown key), {@code tenantId} is {@link EventData#ANONYMOUS_TENANT}.
 *
 * @param keyId     the key id the caller presented, if one could be parsed
 * @param quotaKind for {@link RejectReason#QUOTA}: {@code rpm}, {@code tpm}, {@code tpd}, {@code spend}, {@code concurrency}
 * @param priorityClass for {@link RejectReason#CAPACITY}: the scheduling class the request waited in
 *                  (optional, added in v1)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestRejected(
        String requestId,
        String tenantId,
        String keyId,
        String model,
        Endpoint endpoint,
        RejectReason reason,
        RequestError error,
        String quotaKind,
        String priorityClass) implements EventData {

    public RequestRejected {
        requiredText(requestId, "requestId");
        requiredText(tenantId, "tenantId");
        required(reason, "reason");
        required(error, "error");
    }

    /** A rejection without a scheduling class, as published before classes existed. */
    public RequestRejected(String requestId, String tenantId, String keyId, String model, Endpoint endpoint, RejectReason reason,
                           RequestError error, String quotaKind) {
        this(requestId, tenantId, keyId, model, endpoint, reason, error, quotaKind, null);
    }
}
