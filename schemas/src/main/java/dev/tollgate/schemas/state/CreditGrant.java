package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.credit.CreditSource;

import java.time.Instant;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * One credit grant of a tenant as readers need it (in {@link TenantState#credits()}): the
 * {@code ledger.credit.granted} event and, once voided, the void's time.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreditGrant(String grantId, @JsonProperty(required = true) long amountMicros, CreditSource source, Instant grantedAt,
                          Instant expiresAt, Instant voidedAt, @JsonProperty(required = true) int priority, List<String> models) {
    public CreditGrant {
        requiredText(grantId, "grantId");
        required(source, "source");
        required(grantedAt, "grantedAt");
        models = listOrEmpty(models);
    }
}
