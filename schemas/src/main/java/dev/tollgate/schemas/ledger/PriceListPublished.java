package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.event.EventData;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * A price list for a plan, in force from {@code effectiveFrom} until a later one supersedes it
 * ({@code ledger.pricelist.published}). Never edited. Platform-wide, keyed by
 * {@link EventData#PLATFORM_TENANT}.
 *
 * @param backfill true when a platform-admin deliberately published it with a past {@code effectiveFrom}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PriceListPublished(
        String priceListId,
        String planId,
        String currency,
        Instant effectiveFrom,
        boolean backfill,
        List<ModelPrice> prices) implements EventData {

    public PriceListPublished {
        requiredText(priceListId, "priceListId");
        requiredText(planId, "planId");
        requiredText(currency, "currency");
        required(effectiveFrom, "effectiveFrom");
        prices = listOrEmpty(required(prices, "prices"));
        var models = new HashSet<String>();
        for (ModelPrice price : prices) {
            if (!models.add(price.model())) {
                throw new IllegalArgumentException("field 'prices' lists model '" + price.model() + "' twice");
            }
        }
    }

    @Override
    public String tenantId() {
        return PLATFORM_TENANT;
    }
}
