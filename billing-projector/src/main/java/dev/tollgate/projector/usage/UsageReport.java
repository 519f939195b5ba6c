package dev.tollgate.projector.usage;

import java.util.List;

/**
 * Live usage of one tenant per window, key and model, from the projector's state stores.
 *
 * @param servedBy the name ({@code tollgate.instance-id}) of the instance that owns the tenant's partition and answered;
 *                 never an address (issue #19 item 12)
 */
public record UsageReport(String tenantId, String granularity, String from, String to, String zone, List<Bucket> buckets, Totals totals,
                          String servedBy) {

    /**
     * @param start        the window's first minute (an instant), day ({@code YYYY-MM-DD}) or month ({@code YYYY-MM})
     * @param amountMicros spend at the prices in force, rounded half-even once per bucket (invoices round per line)
     */
    public record Bucket(String start, String keyId, String model, long inputTokens, long cachedInputTokens, long outputTokens,
                         long totalTokens, long events, long amountMicros) {}

    public record Totals(long inputTokens, long cachedInputTokens, long outputTokens, long totalTokens, long events, long amountMicros) {}
}
