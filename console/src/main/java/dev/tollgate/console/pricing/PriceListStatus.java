package dev.tollgate.console.pricing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each price list of a plan stands at an instant: the latest one whose effective time has
 * come is in force, later ones are scheduled, earlier ones superseded (the ledger's rule: the price
 * in force at an event's time prices it, ADR 0017).
 */
public final class PriceListStatus {
    public enum Status { SUPERSEDED, IN_FORCE, SCHEDULED }

    /** A price list with its status. */
    public record Dated(Map<String, Object> priceList, Status status) {}

    private PriceListStatus() {}

    /** {@code priceLists} as the admin API lists them (by plan, then effective time), each with its status at {@code now}. */
    public static List<Dated> at(List<Map<String, Object>> priceLists, Instant now) {
        Map<Object, Integer> inForce = new HashMap<>();
        for (int i = 0; i < priceLists.size(); i++) {
            Map<String, Object> list = priceLists.get(i);
            if (!effectiveFrom(list).isAfter(now)) {
                Integer current = inForce.get(list.get("planId"));
                if (current == null || !effectiveFrom(priceLists.get(current)).isAfter(effectiveFrom(list))) {
                    inForce.put(list.get("planId"), i);
                }
            }
        }
        var dated = new ArrayList<Dated>(priceLists.size());
        for (int i = 0; i < priceLists.size(); i++) {
            Map<String, Object> list = priceLists.get(i);
            Status status = effectiveFrom(list).isAfter(now) ? Status.SCHEDULED
                    : Integer.valueOf(i).equals(inForce.get(list.get("planId"))) ? Status.IN_FORCE : Status.SUPERSEDED;
            dated.add(new Dated(list, status));
        }
        return dated;
    }

    private static Instant effectiveFrom(Map<String, Object> priceList) {
        return Instant.parse(String.valueOf(priceList.get("effectiveFrom")));
    }
}
