package dev.tollgate.ledger.pricing;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.tollgate.ledger.domain.Clock;
import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.domain.UniqueClaims;
import dev.tollgate.ledger.pricing.PricingCommands.PublishPriceList;
import dev.tollgate.ledger.tenant.PlanDirectory;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import java.time.Duration;
import java.util.Currency;
import java.util.HashSet;
import java.util.Locale;
import java.util.regex.Pattern;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * A published price list. It has no command after publication: a list is never edited, only
 * superseded by a later one for the same plan.
 */
@Aggregate
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY)
public class PriceList {
    static final Pattern PRICE_LIST_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    /** Clock skew tolerated between the caller and the ledger before "now" counts as the past. */
    static final Duration PAST_TOLERANCE = Duration.ofMinutes(1);

    @AggregateIdentifier
    private String priceListId;

    protected PriceList() {
        // for Axon
    }

    @CommandHandler
    public PriceList(PublishPriceList command, PlanDirectory plans, UniqueClaims claims) {
        if (command.priceListId() == null || !PRICE_LIST_ID.matcher(command.priceListId()).matches()) {
            throw new LedgerException.Invalid("invalid_price_list_id", "priceListId must be 1-100 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
        }
        if (command.planId() == null || !plans.exists(command.planId())) {
            throw new LedgerException.Invalid("unknown_plan", "plan " + command.planId() + " does not exist");
        }
        if (command.effectiveFrom() == null) {
            throw new LedgerException.Invalid("missing_effectiveFrom", "effectiveFrom is required");
        }
        boolean inThePast = command.effectiveFrom().isBefore(Clock.now().minus(PAST_TOLERANCE));
        if (inThePast && !command.backfill()) {
            throw new LedgerException.Invalid("effective_from_in_past",
                    "effectiveFrom is in the past; publish it as an explicit backfill (platform-admin only) if that is intended");
        }
        if (!inThePast && command.backfill()) {
            throw new LedgerException.Invalid("backfill_not_in_past", "backfill is only for an effectiveFrom in the past");
        }
        if (command.prices() == null || command.prices().isEmpty()) {
            throw new LedgerException.Invalid("missing_prices", "a price list prices at least one model");
        }
        var models = new HashSet<String>();
        for (ModelPrice price : command.prices()) {
            if (price == null || !models.add(price.model())) {
                throw new LedgerException.Invalid("duplicate_model", "each model is priced once per list");
            }
        }
        String currency = command.currency() == null ? null : command.currency().toUpperCase(Locale.ROOT);
        try {
            Currency.getInstance(currency);
        } catch (RuntimeException e) {
            throw new LedgerException.Invalid("invalid_currency", "currency must be an ISO 4217 code such as USD");
        }
        claims.claim("price-list-start", command.planId() + "@" + command.effectiveFrom(), command.priceListId());
        apply(new PriceListPublished(command.priceListId(), command.planId(), currency, command.effectiveFrom(),
                command.backfill(), command.prices()));
    }

    @EventSourcingHandler
    void on(PriceListPublished event) {
        priceListId = event.priceListId();
    }
}
