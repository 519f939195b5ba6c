package dev.tollgate.gateway.scheduling;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.ledger.Limits;

import java.util.List;

/**
 * The class and fair-share weight of a caller's requests (ADR 0023): the class its tenant's plan (or
 * the tenant's own limits) names, else the configured default; a key may move its own requests to a
 * lower class, never to a higher one. A class the gateway does not know counts as the lowest, so a
 * name the ledger and the gateway disagree on never buys priority.
 */
public final class PriorityClasses {
    private final List<String> names;
    private final int defaultClass;

    public PriorityClasses(UpstreamConfig.Scheduling scheduling) {
        this.names = scheduling.classes();
        this.defaultClass = names.indexOf(scheduling.defaultClass());
    }

    /** The class of {@code principal}'s requests: 0 is the highest. */
    public int of(Principal principal) {
        int tenant = index(principal.tenantLimits(), defaultClass);
        int key = index(principal.keyLimits(), tenant);
        return Math.max(tenant, key);
    }

    /** The fair-share weight of {@code principal}'s tenant among its class (1 unless its plan or tenant says). */
    public static int weight(Principal principal) {
        Integer weight = principal.tenantLimits() == null ? null : principal.tenantLimits().queueWeight();
        return weight == null ? 1 : weight;
    }

    /** The name of class {@code index}. */
    public String name(int index) {
        return names.get(index);
    }

    /** How many classes there are. */
    public int count() {
        return names.size();
    }

    private int index(Limits limits, int fallback) {
        if (limits == null || limits.priorityClass() == null) {
            return fallback;
        }
        int index = names.indexOf(limits.priorityClass());
        return index < 0 ? names.size() - 1 : index;
    }
}
