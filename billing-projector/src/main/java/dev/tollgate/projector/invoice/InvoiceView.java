package dev.tollgate.projector.invoice;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;

/**
 * An invoice as the billing API shows it: a finalized one from PostgreSQL, or the draft of an open
 * period computed from the usage billed so far (by the same code that finalizes it).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InvoiceView(String invoiceId, String tenantId, String period, String status, String currency, long totalMicros,
                          String total, long eventCount, long unpricedEvents, Instant finalizedAt, Stripe stripe, List<Line> lines) {

    /** One line and what is behind it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Line(int lineNo, String model, String tokenKind, String priceListId, long quantity, long unitPriceMicrosPerMillion,
                       long amountMicros, long eventCount, Instant firstEventTime, Instant lastEventTime, String firstEventId,
                       String lastEventId, String eventDigest, String adjustsPeriod) {}

    /** Where the invoice stands in Stripe. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Stripe(String status, String customerId, String invoiceId, Long totalMinorUnits, int attempts, String lastError,
                         Instant syncedAt) {}
}
