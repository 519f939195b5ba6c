package dev.tollgate.projector.quota;

import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.ProjectorLifecycle;
import dev.tollgate.projector.stream.ProjectorTopology;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tenant's prepaid balance as this instance holds it (the owner of the tenant's usage partition):
 * its grants from the ledger's state, what the projector burned of each, and what is left now.
 */
@Component
public class BalanceQueries {
    /** Where a grant stands at the time asked. */
    public enum GrantStatus { ACTIVE, SPENT, EXPIRED, VOIDED, SCHEDULED }

    public record GrantBalance(String grantId, long amountMicros, CreditSource source, Instant grantedAt, Instant expiresAt, Instant voidedAt,
                               int priority, List<String> models, long usedMicros, long remainingMicros, GrantStatus status) {}

    /**
     * @param grantedMicros   everything granted, voided and expired grants included
     * @param usedMicros      what usage burned of the grants
     * @param unfundedMicros  prepaid usage no grant covered yet (the next grant pays it first)
     * @param remainingMicros what usage of any model may still spend now: the active grants' rest less the unfunded usage
     * @param asOf            the event time of the newest usage counted (null before any)
     */
    public record Balance(String tenantId, String currency, BillingMode mode, long grantedMicros, long usedMicros, long unfundedMicros,
                          long remainingMicros, Instant asOf, Instant at, List<GrantBalance> grants, String instance) {}

    private final ProjectorLifecycle projector;
    private final Clock clock;

    public BalanceQueries(ProjectorLifecycle projector, Clock clock) {
        this.projector = projector;
        this.clock = clock;
    }

    /** The tenant as the ledger last published it (every instance holds every tenant); 404 for one it has not. */
    public TenantState tenant(String tenantId) {
        try {
            ReadOnlyKeyValueStore<String, byte[]> tenants = running().store(StoreQueryParameters.fromNameAndType(
                    ProjectorTopology.TENANTS_STORE, QueryableStoreTypes.keyValueStore()));
            byte[] json = tenants.get(tenantId);
            if (json == null) {
                throw new BillingException.NotFound("not_found", "no such resource");
            }
            return EventCodec.decodeState(json, TenantState.class);
        } catch (InvalidStateStoreException e) {
            throw new BillingException.Unavailable("balance_unavailable", "tenant state is being restored; retry");
        }
    }

    private KafkaStreams running() {
        KafkaStreams streams = projector.streams();
        if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
            throw new BillingException.Unavailable("balance_unavailable", "the projector is starting or rebalancing; retry");
        }
        return streams;
    }

    /** The balance of {@code tenantId}; 404 for a tenant the ledger has not published. */
    public Balance local(String tenantId) {
        TenantState tenant = tenant(tenantId);
        CreditBalances.Stored burn;
        try {
            ReadOnlyKeyValueStore<String, String> quotas = running().store(StoreQueryParameters.fromNameAndType(
                    ProjectorTopology.QUOTA_STORE, QueryableStoreTypes.keyValueStore()));
            burn = CreditBalances.read(quotas.get(QuotaState.stateKey(tenantId, null, QuotaState.Window.CREDIT)));
        } catch (InvalidStateStoreException e) {
            throw new BillingException.Unavailable("balance_unavailable", "balance state is being restored or moved; retry");
        }
        return of(tenant, burn, clock.instant(), projector.instanceId());
    }

    /** The balance view of a tenant and its stored burn at {@code now}. */
    static Balance of(TenantState tenant, CreditBalances.Stored stored, Instant now, String instance) {
        CreditBurn burn = new CreditBurn(stored.used(), stored.unfunded());
        Map<String, Long> used = burn.usedMicros();
        List<CreditGrant> credits = tenant.credits() == null ? List.of() : tenant.credits();
        var grants = new ArrayList<GrantBalance>();
        long granted = 0;
        long usedTotal = 0;
        for (CreditGrant grant : credits) {
            long usedOfGrant = Math.min(grant.amountMicros(), used.getOrDefault(grant.grantId(), 0L));
            boolean pays = CreditBurn.pays(grant, null, now);
            GrantStatus status = grant.voidedAt() != null && !now.isBefore(grant.voidedAt()) ? GrantStatus.VOIDED
                    : grant.expiresAt() != null && !now.isBefore(grant.expiresAt()) ? GrantStatus.EXPIRED
                    : grant.grantedAt().isAfter(now) ? GrantStatus.SCHEDULED
                    : usedOfGrant >= grant.amountMicros() ? GrantStatus.SPENT : GrantStatus.ACTIVE;
            grants.add(new GrantBalance(grant.grantId(), grant.amountMicros(), grant.source(), grant.grantedAt(), grant.expiresAt(),
                    grant.voidedAt(), grant.priority(), grant.models(), usedOfGrant, pays ? grant.amountMicros() - usedOfGrant : 0, status));
            granted += grant.amountMicros();
            usedTotal += usedOfGrant;
        }
        Instant asOf = stored.sources().values().stream().max(Long::compare).map(Instant::ofEpochMilli).orElse(null);
        return new Balance(tenant.tenantId(), tenant.currency(), CreditBurn.modeAt(tenant, now), granted, usedTotal, burn.unfundedMicros(),
                CreditBurn.remainingMicros(credits, used, burn.unfundedMicros(), null, now), asOf, now, List.copyOf(grants), instance);
    }
}
