package dev.tollgate.ledger.tenant;

/** Which plans exist (a tenant can only be assigned one of them). */
public interface PlanDirectory {
    boolean exists(String planId);
}
