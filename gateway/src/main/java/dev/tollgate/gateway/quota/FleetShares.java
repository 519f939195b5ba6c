package dev.tollgate.gateway.quota;

/**
 * The one rule for this replica's share of a fleet-wide limit (ADR 0020): a small part of the limit
 * ({@link #FLOOR}) is spread evenly over the live replicas, so that one that sees little of a subject
 * can still admit its first requests; the rest follows where the subject's traffic goes, by each
 * replica's part of the subject's recent demand. With no demand anywhere the limit is split evenly.
 * Over a fleet that agrees on the demand, the shares add up to the limit (rounding down).
 */
public final class FleetShares {
    /** The part of every limit that is split evenly whatever the traffic. */
    public static final double FLOOR = 0.05;

    private FleetShares() {}

    /** This replica's part of a limit, from its own demand, the sum of the other replicas' and the fleet's size. */
    public static double weight(long ownDemand, long othersDemand, int replicas) {
        if (replicas <= 1) {
            return 1.0;
        }
        long total = ownDemand + othersDemand;
        if (total <= 0) {
            return 1.0 / replicas;
        }
        return FLOOR / replicas + (1 - FLOOR) * ownDemand / total;
    }

    /** {@code limit × weight}, rounded down but never 0 for a positive limit; 0 for a limit of 0 (nothing is allowed). */
    public static long share(long limit, double weight) {
        if (limit <= 0) {
            return 0;
        }
        return Math.max(1, (long) Math.floor(limit * weight));
    }
}
