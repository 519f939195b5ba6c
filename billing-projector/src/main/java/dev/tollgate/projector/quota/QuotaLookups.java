package dev.tollgate.projector.quota;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/** What the quota processor needs to know of the ledger's state: tenants, keys, price lists. */
public interface QuotaLookups {
    /** Called once from the processor's {@code init} (to open state stores). */
    default void init(ProcessorContext<?, ?> context) {
    }

    TenantState tenant(String tenantId);

    KeyState key(String keyId);

    /** Every plan's price lists. */
    PriceBook priceBook();
}
