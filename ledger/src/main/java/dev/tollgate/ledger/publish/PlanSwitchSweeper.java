package dev.tollgate.ledger.publish;

import dev.tollgate.schemas.state.TenantState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Clock;
import java.util.Optional;

/**
 * Makes a scheduled plan the tenant's current plan when its {@code effectiveFrom} passes, and
 * republishes the tenant's state, so that the plan's limits apply from that time (its prices already
 * do: every reader prices by the plan history, ADR 0017). Runs on every ledger replica; the read
 * model's row lock lets one of them switch each tenant.
 */
@Component
public class PlanSwitchSweeper {
    private static final Logger LOG = LoggerFactory.getLogger(PlanSwitchSweeper.class);
    private static final int BATCH = 500;

    private final ReadModel readModel;
    private final LedgerPublisher publisher;
    private final TransactionTemplate transactions;
    private final Clock clock;

    public PlanSwitchSweeper(ReadModel readModel, LedgerPublisher publisher, PlatformTransactionManager transactions,
                             ObjectProvider<Clock> clock) {
        this.readModel = readModel;
        this.transactions = new TransactionTemplate(transactions);
        this.publisher = publisher;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Scheduled(fixedDelayString = "${tollgate.plan-switch-sweep:PT1S}")
    public void sweep() {
        var now = clock.instant();
        for (String tenantId : readModel.tenantsWithPlanSwitchDue(now, BATCH)) {
            try {
                // One transaction around the switch and the publishing: if Kafka refuses, the switch stays due.
                Optional<TenantState> switched = transactions.execute(status -> {
                    Optional<TenantState> state = readModel.switchPlan(tenantId, now);
                    state.ifPresent(publisher::republish);
                    return state;
                });
                if (switched != null && switched.isPresent()) {
                    LOG.info("tenant {} is on plan {} from its scheduled switch", tenantId, switched.get().planId());
                }
            } catch (RuntimeException e) {
                LOG.warn("could not switch tenant {} to its scheduled plan; retrying on the next sweep: {}", tenantId, e.toString());
            }
        }
    }
}
