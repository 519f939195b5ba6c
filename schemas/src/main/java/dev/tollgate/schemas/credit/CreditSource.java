package dev.tollgate.schemas.credit;

/** Where a credit grant came from; an ADJUSTMENT always carries a reason. */
public enum CreditSource { PURCHASE, PROMOTION, REFUND, ADJUSTMENT }
