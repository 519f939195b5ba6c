package dev.tollgate.billing.credit;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.json.EventCodec;

import java.math.BigDecimal;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What credit did for one usage event's cost (ADR 0028): the mode it was billed in (PREPAID or HYBRID), the exact part of
 * the cost each grant paid, and the exact part left unfunded (PREPAID only: owed to the balance, paid by the next grant,
 * never invoiced). What neither covers is invoiced.
 *
 * @param grants   per grant id, what it paid of this event's cost (exact micro-units, each positive)
 * @param unfunded what no grant paid in PREPAID mode (exact; zero in HYBRID)
 */
public record CreditApplied(BillingMode mode, Map<String, BigDecimal> grants, BigDecimal unfunded) {
    public CreditApplied {
        Objects.requireNonNull(mode, "mode");
        if (!mode.burnsCredits()) {
            throw new IllegalArgumentException("credit applies only in a mode that burns credit, not " + mode);
        }
        grants = grants == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(grants));
        unfunded = unfunded == null ? BigDecimal.ZERO : unfunded;
        if (unfunded.signum() < 0 || grants.values().stream().anyMatch(a -> a.signum() <= 0)) {
            throw new IllegalArgumentException("credit applied is never negative");
        }
    }

    /**
     * As the billing tables store it: the mode (null: no credit, answers null), the grants' parts as a JSON object of
     * decimal strings by grant id (null: none), the unfunded part.
     */
    public static CreditApplied fromStored(String mode, String grantsJson, BigDecimal unfunded) {
        if (mode == null) {
            return null;
        }
        var grants = new TreeMap<String, BigDecimal>();
        if (grantsJson != null) {
            try {
                EventCodec.mapper().readTree(grantsJson).properties()
                        .forEach(e -> grants.put(e.getKey(), new BigDecimal(e.getValue().asText())));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("unreadable stored credits: " + e.getOriginalMessage(), e);
            }
        }
        return new CreditApplied(BillingMode.valueOf(mode), grants, unfunded);
    }

    /** What credit covered of the event's cost: the grants' part and the unfunded part (exact). */
    @JsonIgnore
    public BigDecimal coveredMicros() {
        return grants.values().stream().reduce(unfunded, BigDecimal::add);
    }
}
