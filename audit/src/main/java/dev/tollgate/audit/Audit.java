package dev.tollgate.audit;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.InvoiceIds;
import dev.tollgate.billing.InvoiceLine;
import dev.tollgate.billing.UsageCounts;
import dev.tollgate.billing.Money;
import dev.tollgate.billing.credit.CreditApplied;
import dev.tollgate.billing.credit.InvoiceCredits;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Compares what the replay recomputed with what is stored in PostgreSQL and, when it can reach it,
 * with Stripe; every difference becomes a diagnostic that names the tenant, the invoice line and the
 * event ids concerned.
 */
public final class Audit {
    /** The audit of one tenant's invoice for the period. */
    public record TenantReport(String tenantId, String invoiceId, String period, String status, long events, long inputTokens,
                               long cachedInputTokens, long outputTokens, long recomputedMicros, Long storedMicros,
                               Long expectedStripeMinorUnits, Long stripeMinorUnits, List<Map<String, Object>> lines,
                               List<Map<String, Object>> credits, long creditedMicros, long amountDueMicros, List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private final StoredInvoices stored;
    private final StripeClient stripe;
    private final int minorUnitDigits;

    /** @param stored null to recompute only; @param stripe null to skip the Stripe comparison */
    public Audit(StoredInvoices stored, StripeClient stripe, int minorUnitDigits) {
        this.stored = stored;
        this.stripe = stripe;
        this.minorUnitDigits = minorUnitDigits;
    }

    public List<TenantReport> compare(Replay replay, String tenantFilter) throws SQLException {
        String period = replay.period().toString();
        var tenantIds = new TreeSet<>(replay.tenants().keySet());
        if (stored != null) {
            for (String tenant : stored.tenants(period)) {
                if (tenantFilter == null || tenantFilter.equals(tenant)) {
                    tenantIds.add(tenant);
                }
            }
        }
        var reports = new ArrayList<TenantReport>();
        for (String tenantId : tenantIds) {
            reports.add(compare(replay, tenantId, period));
        }
        return reports;
    }

    private TenantReport compare(Replay replay, String tenantId, String period) throws SQLException {
        Replay.TenantReplay recomputed = replay.tenants().get(tenantId);
        if (recomputed == null) {
            recomputed = new Replay.TenantReplay(tenantId);
        }
        String invoiceId = InvoiceIds.of(tenantId, period);
        var problems = new ArrayList<String>();
        List<InvoiceLine> lines = recomputed.calculator.lines();
        List<List<String>> ids = recomputed.calculator.lineEventIds();
        long total = recomputed.calculator.totalMicros();
        if (!recomputed.calculator.unpriced().isEmpty()) {
            problems.add("tenant " + tenantId + ": " + recomputed.calculator.unpriced().size() + " events no price list priced, e.g. "
                    + recomputed.calculator.unpriced().getFirst().eventId());
        }
        var lineReports = new ArrayList<Map<String, Object>>();
        for (int i = 0; i < lines.size(); i++) {
            InvoiceLine line = lines.get(i);
            var report = new LinkedHashMap<String, Object>();
            report.put("model", line.model());
            report.put("tokenKind", line.kind().name());
            report.put("priceListId", line.priceListId());
            if (line.adjustsPeriod() != null) {
                report.put("adjustsPeriod", line.adjustsPeriod());
            }
            report.put("quantity", line.quantity());
            report.put("amountMicros", line.amountMicros());
            report.put("eventCount", line.eventCount());
            report.put("eventDigest", line.eventDigest());
            report.put("firstEventId", ids.get(i).getFirst());
            report.put("lastEventId", ids.get(i).getLast());
            lineReports.add(report);
        }
        InvoiceCredits.Summary credits = recomputed.credits.summary(total);
        var creditReports = new ArrayList<Map<String, Object>>();
        for (InvoiceCredits.Credit credit : credits.credits()) {
            var report = new LinkedHashMap<String, Object>();
            report.put("kind", credit.unfunded() ? "UNFUNDED" : "GRANT");
            if (!credit.unfunded()) {
                report.put("grantId", credit.grantId());
            }
            report.put("amountMicros", credit.amountMicros());
            creditReports.add(report);
        }
        String status = "NOT_STORED";
        Long storedMicros = null;
        Long expectedStripe = null;
        Long stripeTotal = null;
        if (stored != null) {
            Optional<StoredInvoices.Invoice> invoice = stored.invoice(invoiceId);
            Map<String, StoredInvoices.Billed> billed = stored.billed(tenantId, period);
            compareEvents(tenantId, invoiceId, recomputed.usage(), billed, priceListsByEvent(lines, ids), problems);
            compareEventCredits(tenantId, invoiceId, recomputed.creditByEvent, billed, problems);
            if (invoice.isPresent()) {
                status = invoice.get().status();
                storedMicros = invoice.get().totalMicros();
                List<StoredInvoices.Line> storedLines = stored.lines(invoiceId);
                compareLines(tenantId, invoiceId, lines, ids, storedLines, problems);
                long storedLineSum = storedLines.stream().mapToLong(StoredInvoices.Line::amountMicros).sum();
                if (storedLineSum != storedMicros) {
                    problems.add("tenant " + tenantId + " invoice " + invoiceId + ": its stored lines sum to " + Money.format(storedLineSum)
                            + " but its stored total is " + Money.format(storedMicros));
                }
                if (storedMicros != total) {
                    problems.add("tenant " + tenantId + " invoice " + invoiceId + ": stored total " + Money.format(storedMicros)
                            + ", recomputed " + Money.format(total));
                }
                compareCredits(tenantId, invoiceId, credits, invoice.get(), stored.credits(invoiceId), problems);
                long linesMinor = lines.stream().mapToLong(l -> Money.toMinorUnits(l.amountMicros(), minorUnitDigits)).sum();
                expectedStripe = linesMinor - Arrays.stream(InvoiceCredits.minorUnits(credits.credits(), linesMinor,
                        Money.toMinorUnits(credits.amountDueMicros(), minorUnitDigits))).sum();
                if (invoice.get().stripeInvoiceId() != null) {
                    stripeTotal = stripeTotal(invoice.get(), problems);
                    if (stripeTotal != null && !stripeTotal.equals(expectedStripe)) {
                        problems.add("tenant " + tenantId + " invoice " + invoiceId + ": Stripe invoice " + invoice.get().stripeInvoiceId()
                                + " totals " + stripeTotal + " minor units, the recomputed lines " + expectedStripe);
                    }
                }
            } else {
                status = billed.isEmpty() ? "NOT_STORED" : "OPEN";
            }
        }
        return new TenantReport(tenantId, invoiceId, period, status, recomputed.usage().size(), recomputed.uncached, recomputed.cached,
                recomputed.completion, total, storedMicros, expectedStripe, stripeTotal, lineReports, creditReports, credits.creditedMicros(),
                credits.amountDueMicros(), problems);
    }

    /** A finalized invoice's credits applied and amount due against the recomputed ones (ADR 0028). */
    private static void compareCredits(String tenantId, String invoiceId, InvoiceCredits.Summary recomputed, StoredInvoices.Invoice invoice,
                                       List<StoredInvoices.Credit> stored, List<String> problems) {
        List<InvoiceCredits.Credit> storedCredits = stored.stream().map(c -> new InvoiceCredits.Credit(c.grantId(), c.amountMicros())).toList();
        if (!storedCredits.equals(recomputed.credits())) {
            problems.add("tenant " + tenantId + " invoice " + invoiceId + ": stored credits applied " + describe(storedCredits)
                    + ", recomputed " + describe(recomputed.credits()));
        }
        if (invoice.creditedMicros() != recomputed.creditedMicros() || invoice.amountDueMicros() != recomputed.amountDueMicros()) {
            problems.add("tenant " + tenantId + " invoice " + invoiceId + ": stored credits " + Money.format(invoice.creditedMicros())
                    + " and amount due " + Money.format(invoice.amountDueMicros()) + ", recomputed " + Money.format(recomputed.creditedMicros())
                    + " and " + Money.format(recomputed.amountDueMicros()));
        }
    }

    private static String describe(List<InvoiceCredits.Credit> credits) {
        return credits.isEmpty() ? "none" : credits.stream().map(c -> (c.unfunded() ? "unfunded" : c.grantId()) + " " + Money.format(c.amountMicros()))
                .toList().toString();
    }

    /**
     * What credit paid of each event, as billed, against the replay's burn: this proves an open period's credits too, and
     * names the first event whose credit differs (a grant the projector had not loaded yet, ADR 0027, shows here).
     */
    private static void compareEventCredits(String tenantId, String invoiceId, Map<String, CreditApplied> recomputed,
                                            Map<String, StoredInvoices.Billed> billed, List<String> problems) {
        int listed = 0;
        int differing = 0;
        for (StoredInvoices.Billed row : billed.values()) {
            CreditApplied expected = recomputed.get(row.eventId());
            if (!sameCredit(expected, row.credit())) {
                differing++;
                if (listed++ < 5) {
                    problems.add("tenant " + tenantId + " invoice " + invoiceId + ": event " + row.eventId() + " was billed with credit "
                            + row.credit() + ", the replay's burn gives " + expected);
                }
            }
        }
        if (differing > listed) {
            problems.add("tenant " + tenantId + " invoice " + invoiceId + ": " + (differing - listed) + " more events with different credit");
        }
    }

    private static boolean sameCredit(CreditApplied a, CreditApplied b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a.mode() != b.mode() || a.unfunded().compareTo(b.unfunded()) != 0 || !a.grants().keySet().equals(b.grants().keySet())) {
            return false;
        }
        return a.grants().entrySet().stream().allMatch(e -> e.getValue().compareTo(b.grants().get(e.getKey())) == 0);
    }

    /** The price list each recomputed event is priced with (events priced by no list are absent). */
    private static Map<String, String> priceListsByEvent(List<InvoiceLine> lines, List<List<String>> ids) {
        var lists = new HashMap<String, String>();
        for (int i = 0; i < lines.size(); i++) {
            for (String eventId : ids.get(i)) {
                lists.put(eventId, lines.get(i).priceListId());
            }
        }
        return lists;
    }

    /**
     * Every event of the log against its billed row: its tokens, and the price list it is billed with,
     * which must be the one the ledger puts in force at its time. This is what proves an open period's
     * draft (no stored lines yet), and finds an event priced with another list even where two lists
     * happen to give the same line amounts.
     */
    private static void compareEvents(String tenantId, String invoiceId, Map<String, BillableUsage> log, Map<String, StoredInvoices.Billed> billed,
                                      Map<String, String> priceLists, List<String> problems) {
        for (BillableUsage event : log.values()) {
            StoredInvoices.Billed row = billed.get(event.eventId());
            boolean bills = !event.counts().equals(UsageCounts.NONE);
            if (row != null && bills && !Objects.equals(row.priceListId(), priceLists.get(event.eventId()))) {
                problems.add("tenant " + tenantId + " invoice " + invoiceId + ": event " + event.eventId() + " (" + event.model()
                        + ") is billed with price list " + row.priceListId() + ", the ledger prices it with "
                        + priceLists.get(event.eventId()));
            }
            if (row == null) {
                problems.add("tenant " + tenantId + " invoice " + invoiceId + ": event " + event.eventId() + " (" + event.model()
                        + ") is in the log but was not billed");
            } else if (!row.counts().equals(event.counts())) {
                problems.add("tenant " + tenantId + " invoice " + invoiceId + ": event " + event.eventId() + " differs from what was billed "
                        + "(billed " + row.counts() + ", the log says " + event.counts() + "): altered after billing");
            }
        }
        for (StoredInvoices.Billed row : billed.values()) {
            if (!log.containsKey(row.eventId())) {
                problems.add("tenant " + tenantId + " invoice " + invoiceId + ": event " + row.eventId() + " (" + row.model()
                        + ") was billed but is missing from the log");
            }
        }
    }

    private static void compareLines(String tenantId, String invoiceId, List<InvoiceLine> lines, List<List<String>> ids,
                                     List<StoredInvoices.Line> storedLines, List<String> problems) {
        var byKey = new LinkedHashMap<String, StoredInvoices.Line>();
        storedLines.forEach(l -> byKey.put(l.key(), l));
        for (int i = 0; i < lines.size(); i++) {
            InvoiceLine line = lines.get(i);
            String key = (line.adjustsPeriod() == null ? "" : line.adjustsPeriod()) + "|" + line.model() + "|" + line.kind() + "|"
                    + line.priceListId();
            StoredInvoices.Line s = byKey.remove(key);
            String name = line.model() + " " + line.kind() + " " + line.priceListId() + (line.adjustsPeriod() == null ? ""
                    : " adjusting " + line.adjustsPeriod());
            if (s == null) {
                problems.add("tenant " + tenantId + " invoice " + invoiceId + ": line " + name + " (" + line.eventCount()
                        + " events, first " + ids.get(i).getFirst() + ") is missing from the stored invoice");
                continue;
            }
            if (s.quantity() != line.quantity() || s.amountMicros() != line.amountMicros() || s.eventCount() != line.eventCount()
                    || !s.digest().equals(line.eventDigest()) || s.unitPrice() != line.unitPriceMicrosPerMillion()) {
                problems.add("tenant " + tenantId + " invoice " + invoiceId + " line " + s.lineNo() + " (" + name + "): stored quantity "
                        + s.quantity() + ", unit price " + s.unitPrice() + ", amount " + Money.format(s.amountMicros()) + ", " + s.eventCount()
                        + " events, digest " + s.digest().substring(0, 12) + "...; recomputed " + line.quantity() + ", "
                        + line.unitPriceMicrosPerMillion() + ", " + Money.format(line.amountMicros()) + ", " + line.eventCount()
                        + " events, digest " + line.eventDigest().substring(0, 12) + "...");
            }
        }
        byKey.values().forEach(s -> problems.add("tenant " + tenantId + " invoice " + invoiceId + " line " + s.lineNo() + " (" + s.model()
                + " " + s.kind() + " " + s.priceListId() + ") is stored but no event in the log bills it"));
    }

    private Long stripeTotal(StoredInvoices.Invoice invoice, List<String> problems) {
        if (stripe == null) {
            return null;
        }
        try {
            return stripe.v1().invoices().retrieve(invoice.stripeInvoiceId()).getTotal();
        } catch (StripeException e) {
            problems.add("tenant " + invoice.tenantId() + " invoice " + invoice.invoiceId() + ": Stripe invoice "
                    + invoice.stripeInvoiceId() + " could not be read (" + e.getStatusCode() + ")");
            return null;
        }
    }
}
