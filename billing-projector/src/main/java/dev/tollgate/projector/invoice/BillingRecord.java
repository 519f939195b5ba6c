package dev.tollgate.projector.invoice;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.PlanHistory;
import dev.tollgate.billing.PriceBook;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.billing.UsageCounts;
import dev.tollgate.billing.credit.CreditApplied;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.TenantState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Optional;

import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * What the projector writes to {@code usage.billed.v1}, in the order it decided it (per tenant):
 * a {@link Billed} usage event, or a {@link PeriodClosed} marker after which no event bills on that
 * tenant's period any more. The invoice writer turns these into PostgreSQL rows; because both kinds
 * share the tenant key, every billed event of a period precedes its close marker.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({@JsonSubTypes.Type(value = BillingRecord.Billed.class, name = "billed"),
        @JsonSubTypes.Type(value = BillingRecord.PeriodClosed.class, name = "period-closed")})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface BillingRecord {
    String tenantId();

    /**
     * One deduplicated usage event and the invoice it lands on.
     *
     * @param period        the invoice period, {@code YYYY-MM} in the tenant's billing zone
     * @param adjustsPeriod null, or the closed period a late event belonged to (ADR 0008)
     * @param currency      the tenant's currency (ISO 4217), null if the tenant is unknown
     * @param price         the price list in force at the event's time for the tenant's plan; null if none priced it
     * @param credit        what the tenant's credit paid of the event's cost (ADR 0028); null when its mode burns none
     * @param units         the units of ADR 0030 the event bills beside its tokens; null when none (and in records written before)
     */
    record Billed(String eventId, String tenantId, String keyId, String model, Instant time, long uncachedPrompt,
                  long cachedPrompt, long completion, String period, String adjustsPeriod, String currency,
                  AppliedPrice price, CreditApplied credit, Units units) implements BillingRecord {

        /** What the invoice writer can store; anything less is refused when decoding (and dead-lettered, not retried forever). */
        public Billed {
            requiredText(eventId, "eventId");
            requiredText(tenantId, "tenantId");
            requiredText(model, "model");
            required(time, "time");
            requiredText(period, "period");
            nonNegative(uncachedPrompt, "uncachedPrompt");
            nonNegative(cachedPrompt, "cachedPrompt");
            nonNegative(completion, "completion");
        }

        /** A decision of token usage only. */
        public Billed(String eventId, String tenantId, String keyId, String model, Instant time, long uncachedPrompt, long cachedPrompt,
                      long completion, String period, String adjustsPeriod, String currency, AppliedPrice price, CreditApplied credit) {
            this(eventId, tenantId, keyId, model, time, uncachedPrompt, cachedPrompt, completion, period, adjustsPeriod, currency, price,
                    credit, null);
        }

        /** A decision of token usage without credit (a POSTPAID tenant's, or a record written before ADR 0028). */
        public Billed(String eventId, String tenantId, String keyId, String model, Instant time, long uncachedPrompt, long cachedPrompt,
                      long completion, String period, String adjustsPeriod, String currency, AppliedPrice price) {
            this(eventId, tenantId, keyId, model, time, uncachedPrompt, cachedPrompt, completion, period, adjustsPeriod, currency, price,
                    null);
        }

        public static Billed of(BillableUsage usage, String period, String adjustsPeriod, String currency, AppliedPrice price,
                                CreditApplied credit) {
            return new Billed(usage.eventId(), usage.tenantId(), usage.keyId(), usage.model(), usage.time(), usage.uncachedPrompt(),
                    usage.cachedPrompt(), usage.completion(), period, adjustsPeriod, currency, price, credit, Units.of(usage.counts()));
        }

        /** The exact cost of the event at its price (zero when none priced it). */
        public BigDecimal costMicros() {
            return price == null ? BigDecimal.ZERO : UsageBilling.exactAmountMicros(usage(), price.rates());
        }

        public BillableUsage usage() {
            Units u = units == null ? Units.NONE : units;
            return new BillableUsage(eventId, tenantId, keyId, model, time, new UsageCounts(uncachedPrompt, cachedPrompt,
                    u.cacheWritePrompt(), completion, u.reasoning(), u.audioSeconds(), u.documents(), u.requests()), null);
        }
    }

    /** What a billed event counts beside its three token kinds (ADR 0030; see {@link UsageCounts}). */
    record Units(long cacheWritePrompt, long reasoning, long audioSeconds, long documents, long requests) {
        static final Units NONE = new Units(0, 0, 0, 0, 0);

        /** The units of {@code counts}; null when it has none, so that a record of tokens only is written as before. */
        public static Units of(UsageCounts counts) {
            return nonZero(counts.cacheWritePrompt(), counts.reasoning(), counts.audioSeconds(), counts.documents(), counts.requests());
        }

        /** These units; null when all are 0. */
        public static Units nonZero(long cacheWritePrompt, long reasoning, long audioSeconds, long documents, long requests) {
            var units = new Units(cacheWritePrompt, reasoning, audioSeconds, documents, requests);
            return units.equals(NONE) ? null : units;
        }
    }

    /** No more usage bills on {@code period} of this tenant: its invoice can be finalized. */
    record PeriodClosed(String tenantId, String period, String zone, Instant closedAtStreamTime) implements BillingRecord {
        public PeriodClosed {
            requiredText(tenantId, "tenantId");
            requiredText(period, "period");
            requiredText(zone, "zone");
        }
    }

    /** The rates one event was priced with, and the list they come from; the rates of ADR 0030 are null where the list has none. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record AppliedPrice(String priceListId, Instant effectiveFrom, long inputMicros, long cachedInputMicros, long outputMicros,
                        Long cacheWriteInputMicros, Long reasoningMicros, Long audioSecondMicros, Long documentMicros, Long requestMicros) {
        /** Token rates only. */
        public AppliedPrice(String priceListId, Instant effectiveFrom, long inputMicros, long cachedInputMicros, long outputMicros) {
            this(priceListId, effectiveFrom, inputMicros, cachedInputMicros, outputMicros, null, null, null, null, null);
        }

        /**
         * The rates of {@code model} in the price list in force at {@code time} for the plan the tenant was on
         * then (ADR 0017); null when there is none. The one pricing step of billing and of re-pricing.
         */
        public static AppliedPrice inForce(PriceBook book, TenantState tenant, String model, Instant time) {
            Optional<PriceSchedule.PriceList> list = book.priceListAt(PlanHistory.of(tenant), time);
            PriceSchedule.ModelRates rates = list.map(l -> l.rates().get(model)).orElse(null);
            return rates == null ? null : of(list.get(), rates);
        }

        public static AppliedPrice of(PriceSchedule.PriceList list, PriceSchedule.ModelRates rates) {
            return new AppliedPrice(list.priceListId(), list.effectiveFrom(), rates.inputMicros(), rates.cachedInputMicros(),
                    rates.outputMicros(), rates.cacheWriteInputMicros(), rates.reasoningMicros(), rates.audioSecondMicros(),
                    rates.documentMicros(), rates.requestMicros());
        }

        public PriceSchedule.ModelRates rates() {
            return new PriceSchedule.ModelRates(inputMicros, cachedInputMicros, outputMicros, cacheWriteInputMicros, reasoningMicros,
                    audioSecondMicros, documentMicros, requestMicros);
        }
    }

    static byte[] encode(BillingRecord record) {
        try {
            return EventCodec.mapper().writeValueAsBytes(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static BillingRecord decode(byte[] json) {
        try {
            return EventCodec.mapper().readValue(json, BillingRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable usage.billed.v1 record", e);
        }
    }
}
