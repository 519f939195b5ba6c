package dev.tollgate.projector.invoice;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;

/**
 * An invoice as the billing API shows it: a finalized one from PostgreSQL, or the draft of an open
 * period computed from the usage billed so far (by the same code that finalizes it). The lines add up
 * to the total; the credits applied to {@code creditedMicros}; the total less the credits is the
 * amount due (ADR 0028).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InvoiceView(String invoiceId, String tenantId, String period, String status, String currency, long totalMicros,
                          String total, long eventCount, long unpricedEvents, Instant finalizedAt, Stripe stripe, List<Line> lines,
                          List<Credit> credits, long creditedMicros, long amountDueMicros, String amountDue) {

    /** One line and what is behind it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Line(int lineNo, String model, String tokenKind, String priceListId, long quantity, long unitPriceMicrosPerMillion,
                       long amountMicros, long eventCount, Instant firstEventTime, Instant lastEventTime, String firstEventId,
                       String lastEventId, String eventDigest, String adjustsPeriod) {}

    /**
     * One credit applied after the lines (ADR 0028): a grant's ({@code kind} GRANT), or the prepaid usage no grant paid, owed
     * to the balance and paid by the next grant ({@code kind} UNFUNDED, no grant id).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Credit(int creditNo, String kind, String grantId, long amountMicros) {}

    /** Where the invoice stands in Stripe. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Stripe(String status, String customerId, String invoiceId, Long totalMinorUnits, int attempts, String lastError,
                         Instant syncedAt) {}
}
