package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A tenant was onboarded ({@code ledger.tenant.created}).
 *
 * @param billingTimeZone IANA zone id of the tenant's calendar-month billing periods (e.g. {@code UTC})
 * @param currency        ISO 4217 code; all the tenant's amounts are micro-units of it
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TenantCreated(String tenantId, String name, String billingTimeZone, String currency)
        implements EventData {
    public TenantCreated {
        requiredText(tenantId, "tenantId");
        requiredText(name, "name");
        requiredText(billingTimeZone, "billingTimeZone");
        requiredText(currency, "currency");
    }
}
