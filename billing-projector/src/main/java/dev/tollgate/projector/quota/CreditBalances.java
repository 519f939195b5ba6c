package dev.tollgate.projector.quota;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.credit.CreditApplied;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.streams.state.KeyValueStore;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The prepaid part of billing (ADR 0027, 0028): burns each billed event of a PREPAID or HYBRID
 * tenant against its credit grants ({@link CreditBurn}, the rule the audit replays too) and returns
 * what the event's cost got from credit (for its billing record) and the tenant's
 * {@link QuotaState.Window#CREDIT} state (for the quota loop). The burn per tenant lives in the quota store
 * under the state's key, exact to the last decimal, with the per-source watermarks of ADR 0009.
 */
public final class CreditBalances {
    private static final ObjectMapper JSON = EventCodec.mapper();

    /** What the store keeps of a tenant's burn: exact amounts as decimal strings, and the watermarks (epoch millis). */
    public record Stored(Map<String, BigDecimal> used, BigDecimal unfunded, long version, Map<String, Long> sources) {}

    private final KeyValueStore<String, String> store;

    public CreditBalances(KeyValueStore<String, String> store) {
        this.store = store;
    }

    /**
     * What burning one event did: what its cost got from credit (on its billing record, ADR 0028); the new state; the credit
     * that can pay at the event's time (any model) and what of it was left before and is left after.
     */
    public record Burned(CreditApplied credit, QuotaState state, long creditMicros, long remainingBeforeMicros, long remainingMicros,
                         boolean prepaid) {}

    /** Burns {@code cost} (exact micro-units) of {@code event}; null when the tenant's mode at the event's time burns no credit. */
    public Burned burn(BillableUsage event, TenantState tenant, BigDecimal cost, String source) {
        BillingMode mode = CreditBurn.modeAt(tenant, event.time());
        if (!mode.burnsCredits()) {
            return null;
        }
        String key = QuotaState.stateKey(event.tenantId(), null, QuotaState.Window.CREDIT);
        Stored before = read(store.get(key));
        CreditBurn previous = new CreditBurn(before.used(), before.unfunded());
        CreditBurn.Applied applied = previous.apply(tenant.credits(), mode, event.model(), event.endpoint(), event.time(), cost);
        CreditBurn burn = applied.burn();
        var sources = new TreeMap<>(before.sources());
        if (source != null) {
            sources.merge(source, event.time().toEpochMilli(), Math::max);
        }
        long version = before.version() + 1;
        store.put(key, write(new Stored(burn.used(), burn.unfunded(), version, sources)));
        var watermarks = new TreeMap<String, Instant>();
        sources.forEach((s, millis) -> watermarks.put(s, Instant.ofEpochMilli(millis)));
        long remaining = CreditBurn.remainingMicros(tenant.credits(), burn.usedMicros(), burn.unfundedMicros(), null, null, event.time());
        long remainingBefore = CreditBurn.remainingMicros(tenant.credits(), previous.usedMicros(), previous.unfundedMicros(), null, null,
                event.time());
        long credit = tenant.credits() == null ? 0 : tenant.credits().stream().filter(g -> CreditBurn.pays(g, null, null, event.time()))
                .mapToLong(g -> g.amountAt(event.time())).sum();
        var state = new QuotaState(event.tenantId(), null, QuotaState.Window.CREDIT, QuotaState.CREDIT_WINDOW_START, QuotaState.CREDIT_WINDOW_END,
                0, burn.consumedMicros(), null, null,
                mode == BillingMode.PREPAID && remaining == 0 ? QuotaState.Status.EXHAUSTED : QuotaState.Status.OK, event.time(), version,
                watermarks.isEmpty() ? null : watermarks, burn.usedMicros(), burn.unfundedMicros());
        return new Burned(applied.credit(), state, credit, remainingBefore, remaining, mode == BillingMode.PREPAID);
    }

    /** A stored burn (none yet when {@code json} is null). */
    public static Stored read(String json) {
        if (json == null) {
            return new Stored(Map.of(), BigDecimal.ZERO, 0, Map.of());
        }
        try {
            return JSON.readValue(json, Stored.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt credit burn in the quota store", e);
        }
    }

    private static String write(Stored stored) {
        try {
            return JSON.writeValueAsString(stored);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
