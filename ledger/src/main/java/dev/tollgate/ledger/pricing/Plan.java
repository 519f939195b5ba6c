package dev.tollgate.ledger.pricing;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.domain.UniqueClaims;
import dev.tollgate.ledger.pricing.PricingCommands.DefinePlan;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.ledger.PlanDefined;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

import java.util.Objects;
import java.util.regex.Pattern;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** A plan: a name and the default limits of the tenants on it. Defining it again updates it. */
@Aggregate
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class Plan {
    /** The claim scope that records which plans exist. */
    public static final String PLAN_SCOPE = "plan";
    static final Pattern PLAN_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    @AggregateIdentifier
    private String planId;
    private String name;
    private Limits defaultLimits;
    private boolean allowUnpricedUsage;
    private BillingMode billingMode = BillingMode.POSTPAID;

    protected Plan() {
        // for Axon
    }

    @CommandHandler
    @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
    public void handle(DefinePlan command, UniqueClaims claims) {
        if (command.planId() == null || !PLAN_ID.matcher(command.planId()).matches()) {
            throw new LedgerException.Invalid("invalid_plan_id", "planId must be 1-63 characters of a-z, 0-9 and '-'");
        }
        if (command.name() == null || command.name().isBlank() || command.name().length() > 200) {
            throw new LedgerException.Invalid("invalid_name", "name must be 1-200 characters");
        }
        Limits limits = command.defaultLimits() == null ? Limits.NONE : command.defaultLimits();
        // The claim makes the plan visible to other commands at once, not when a projection catches up.
        claims.claim(PLAN_SCOPE, command.planId(), command.planId());
        BillingMode mode = command.billingMode() == null ? BillingMode.POSTPAID : command.billingMode();
        if (command.name().equals(name) && limits.equals(defaultLimits) && command.allowUnpricedUsage() == allowUnpricedUsage
                && mode == billingMode) {
            return; // nothing changes: no event
        }
        apply(new PlanDefined(command.planId(), command.name(), limits, command.allowUnpricedUsage(), mode));
    }

    @EventSourcingHandler
    void on(PlanDefined event) {
        planId = event.planId();
        name = event.name();
        defaultLimits = Objects.requireNonNullElse(event.defaultLimits(), Limits.NONE);
        allowUnpricedUsage = event.allowsUnpricedUsage();
        billingMode = event.mode();
    }
}
