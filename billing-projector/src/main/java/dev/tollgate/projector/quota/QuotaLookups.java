package dev.tollgate.projector.quota;

import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/** What the quota processor needs to know of the ledger's state: tenants, keys, price schedules. */
public interface QuotaLookups {
    /** Called once from the processor's {@code init} (to open state stores). */
    default void init(ProcessorContext<?, ?> context) {
    }

    TenantState tenant(String tenantId);

    KeyState key(String keyId);

    /** The price lists of a plan, or null. */
    PriceSchedule prices(String planId);
}
