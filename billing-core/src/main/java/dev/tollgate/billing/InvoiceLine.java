package dev.tollgate.billing;

import java.time.Instant;

/**
 * One priced line of an invoice: a model, a price unit (ADR 0030) and the price list in force, with what is
 * behind it (event count, first and last event time, a digest over the sorted event ids).
 *
 * @param amountMicros  {@code quantity x unitPriceMicrosPerMillion / 1e6}, rounded once, half-even (ADR 0003)
 * @param adjustsPeriod null for the period's own usage; for an adjustment line, the closed period
 *                      ({@code YYYY-MM}) whose late events it bills
 */
public record InvoiceLine(String model, PriceUnit kind, String priceListId, long quantity, long unitPriceMicrosPerMillion,
                          long amountMicros, long eventCount, Instant firstEventTime, Instant lastEventTime, String eventDigest,
                          String adjustsPeriod) {}
