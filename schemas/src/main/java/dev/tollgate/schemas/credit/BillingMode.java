package dev.tollgate.schemas.credit;

/**
 * How a tenant pays (ADR 0027): POSTPAID, an invoice per period (the default); PREPAID, usage burns
 * credit grants and the gateway refuses what the balance cannot cover; HYBRID, credits first and the
 * rest on the invoice, never refused for the balance.
 */
public enum BillingMode {
    POSTPAID, PREPAID, HYBRID;

    /** True if usage in this mode burns credit grants. */
    public boolean burnsCredits() {
        return this != POSTPAID;
    }
}
