package dev.tollgate.projector.quota;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.billing.credit.CreditStatement;
import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.ProjectorLifecycle;
import dev.tollgate.projector.stream.ProjectorTopology;
import dev.tollgate.schemas.json.EventCodec;
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

/**
 * A tenant's prepaid balance as this instance holds it (the owner of the tenant's usage partition):
 * its grants from the ledger's state, what the projector burned of each, and what is left now.
 */
@Component
public class BalanceQueries {
    /**
     * The statement, with the event time of the newest usage the burn counts ({@code asOf}, null before any), what the
     * gateway fleet holds beyond it ({@code inFlightMicros}: requests in flight and usage the burn does not count yet, from
     * the replicas' heartbeats), what is left of it after that ({@code availableMicros}) and the instance that answered.
     */
    public record Balance(@JsonUnwrapped CreditStatement statement, Instant asOf, long inFlightMicros, long availableMicros,
                          String instance) {}

    private final ProjectorLifecycle projector;
    private final Clock clock;
    private final FleetInFlight fleet;

    public BalanceQueries(ProjectorLifecycle projector, Clock clock, FleetInFlight fleet) {
        this.projector = projector;
        this.clock = clock;
        this.fleet = fleet;
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
        Instant now = clock.instant();
        return of(tenant, burn, now, fleet.inFlightMicros(tenantId, now), projector.instanceId());
    }

    /** The balance of a tenant and its stored burn at {@code now}, with what the fleet holds in flight. */
    static Balance of(TenantState tenant, CreditBalances.Stored stored, Instant now, long inFlight, String instance) {
        CreditBurn burn = new CreditBurn(stored.used(), stored.unfunded());
        Instant asOf = stored.sources().values().stream().max(Long::compare).map(Instant::ofEpochMilli).orElse(null);
        CreditStatement statement = CreditStatement.of(tenant.tenantId(), tenant.currency(), CreditBurn.modeAt(tenant, now), tenant.credits(),
                burn, now);
        return new Balance(statement, asOf, inFlight, Math.max(0, statement.remainingMicros() - inFlight), instance);
    }
}
