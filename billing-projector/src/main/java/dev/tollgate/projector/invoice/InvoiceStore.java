package dev.tollgate.projector.invoice;

import dev.tollgate.billing.InvoiceIds;
import dev.tollgate.billing.InvoiceCalculator;
import dev.tollgate.billing.InvoiceLine;
import dev.tollgate.billing.Money;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageCounts;
import dev.tollgate.billing.credit.CreditApplied;
import dev.tollgate.billing.credit.InvoiceCredits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The billing tables (ADR 0008). The invoice writer applies each polled batch of usage.billed.v1 in
 * one transaction; every write is keyed (event id, invoice id), so applying a batch twice changes
 * nothing. An invoice is computed from its billed rows by {@link InvoiceCalculator}, the code the
 * audit replay uses too: when finalized (once, at the period's close marker) and, for the open
 * period, as a draft on every read.
 */
@Repository
public class InvoiceStore {
    private static final Logger LOG = LoggerFactory.getLogger(InvoiceStore.class);

    /** A usage.billed.v1 record and where it was read. */
    public record Positioned(BillingRecord record, int partition, long offset) {}

    /** A billed event and the price it has from now on (null: none in force). */
    public record Repricing(BillingRecord.Billed row, BillingRecord.AppliedPrice price) {}

    /** An invoice computed from billed rows. */
    public record Computed(String currency, List<InvoiceLine> lines, List<List<String>> lineEventIds, long totalMicros, long eventCount,
                           long unpricedEvents, InvoiceCredits.Summary credits) {}

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;

    public InvoiceStore(JdbcTemplate jdbc, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.tx = tx;
    }

    /** Applies one batch, in order, in one transaction. */
    public void apply(List<Positioned> batch) {
        tx.executeWithoutResult(status -> {
            var billed = new ArrayList<Object[]>();
            var credits = new ArrayList<Object[]>();
            var periods = new LinkedHashMap<String, Object[]>();
            for (Positioned positioned : batch) {
                if (positioned.record() instanceof BillingRecord.Billed b) {
                    BillingRecord.AppliedPrice price = b.price();
                    UsageCounts counts = b.usage().counts();
                    billed.add(new Object[]{b.eventId(), b.tenantId(), b.keyId(), b.model(), Timestamp.from(b.time()), b.uncachedPrompt(),
                            b.cachedPrompt(), b.completion(), b.period(), b.adjustsPeriod(), b.currency(),
                            price == null ? null : price.priceListId(), price == null ? null : Timestamp.from(price.effectiveFrom()),
                            price == null ? null : price.inputMicros(), price == null ? null : price.cachedInputMicros(),
                            price == null ? null : price.outputMicros(), positioned.partition(), positioned.offset(),
                            b.credit() == null ? null : b.credit().mode().name(), b.credit() == null ? null : b.credit().unfunded(),
                            counts.cacheWritePrompt(), counts.reasoning(), counts.audioSeconds(), counts.documents(), counts.requests(),
                            price == null ? null : price.cacheWriteInputMicros(), price == null ? null : price.reasoningMicros(),
                            price == null ? null : price.audioSecondMicros(), price == null ? null : price.documentMicros(),
                            price == null ? null : price.requestMicros()});
                    if (b.credit() != null) {
                        b.credit().grants().forEach((grantId, amount) -> credits.add(new Object[]{b.eventId(), grantId, amount}));
                    }
                    String invoiceId = InvoiceIds.of(b.tenantId(), b.period());
                    periods.putIfAbsent(invoiceId, new Object[]{invoiceId, b.tenantId(), b.period()});
                }
            }
            jdbc.batchUpdate("""
                    insert into billed_usage (event_id, tenant_id, key_id, model, event_time, uncached_prompt, cached_prompt, completion,
                        invoice_period, adjusts_period, currency, price_list_id, price_effective_from, input_micros, cached_input_micros,
                        output_micros, billed_partition, billed_offset, credit_mode, credit_unfunded, cache_write_prompt, reasoning,
                        audio_seconds, documents, requests, cache_write_input_micros, reasoning_micros, audio_second_micros, document_micros,
                        request_micros)
                    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    on conflict (event_id) do nothing""", billed);
            jdbc.batchUpdate("insert into billed_credits (event_id, grant_id, amount) values (?, ?, ?) on conflict do nothing", credits);
            jdbc.batchUpdate("insert into billing_periods (invoice_id, tenant_id, period) values (?, ?, ?) on conflict do nothing",
                    new ArrayList<>(periods.values()));
            for (Positioned positioned : batch) {
                if (positioned.record() instanceof BillingRecord.PeriodClosed closed) {
                    close(closed);
                }
            }
        });
    }

    private void close(BillingRecord.PeriodClosed closed) {
        String invoiceId = InvoiceIds.of(closed.tenantId(), closed.period());
        jdbc.update("insert into billing_periods (invoice_id, tenant_id, period) values (?, ?, ?) on conflict do nothing",
                invoiceId, closed.tenantId(), closed.period());
        jdbc.update("update billing_periods set zone = ?, closed_at_stream_time = ? where invoice_id = ? and closed_at_stream_time is null",
                closed.zone(), Timestamp.from(closed.closedAtStreamTime()), invoiceId);
        Integer existing = jdbc.queryForObject("select count(*) from invoices where invoice_id = ?", Integer.class, invoiceId);
        if (existing != null && existing > 0) {
            return;
        }
        Computed computed = compute(rows(closed.tenantId(), closed.period()));
        jdbc.update("""
                insert into invoices (invoice_id, tenant_id, period, currency, status, total_micros, event_count, unpriced_events, finalized_at,
                    credited_micros, amount_due_micros)
                values (?, ?, ?, ?, 'FINALIZED', ?, ?, ?, now(), ?, ?)""",
                invoiceId, closed.tenantId(), closed.period(), computed.currency(), computed.totalMicros(), computed.eventCount(),
                computed.unpricedEvents(), computed.credits().creditedMicros(), computed.credits().amountDueMicros());
        var lines = new ArrayList<Object[]>();
        for (int i = 0; i < computed.lines().size(); i++) {
            InvoiceLine line = computed.lines().get(i);
            List<String> ids = computed.lineEventIds().get(i);
            lines.add(new Object[]{invoiceId, i + 1, line.model(), line.kind().name(), line.priceListId(), line.quantity(),
                    line.unitPriceMicrosPerMillion(), line.amountMicros(), line.eventCount(), Timestamp.from(line.firstEventTime()),
                    Timestamp.from(line.lastEventTime()), line.eventDigest(), ids.getFirst(), ids.getLast(), line.adjustsPeriod()});
        }
        jdbc.batchUpdate("""
                insert into invoice_lines (invoice_id, line_no, model, token_kind, price_list_id, quantity, unit_price_micros_per_million,
                    amount_micros, event_count, first_event_time, last_event_time, event_digest, first_event_id, last_event_id, adjusts_period)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", lines);
        var credits = new ArrayList<Object[]>();
        List<InvoiceCredits.Credit> applied = computed.credits().credits();
        for (int i = 0; i < applied.size(); i++) {
            credits.add(new Object[]{invoiceId, i + 1, applied.get(i).grantId(), applied.get(i).amountMicros()});
        }
        jdbc.batchUpdate("insert into invoice_credits (invoice_id, credit_no, grant_id, amount_micros) values (?, ?, ?, ?)", credits);
        if (computed.unpricedEvents() > 0) {
            LOG.warn("invoice {} of tenant {} for {} finalized with {} unpriced events: publish a price list for their models",
                    invoiceId, closed.tenantId(), closed.period(), computed.unpricedEvents());
        }
        LOG.info("invoice {} of tenant {} for {} finalized: {} lines, total {} {}, credits {}, due {}", invoiceId, closed.tenantId(),
                closed.period(), computed.lines().size(), Money.format(computed.totalMicros()), computed.currency(),
                Money.format(computed.credits().creditedMicros()), Money.format(computed.credits().amountDueMicros()));
    }

    /**
     * Prices again, with {@code priceOf}, every event of {@code tenantId} at or after {@code from} on an
     * invoice that is not finalized (a ledger backfill: a plan or price list effective in the past), and
     * stores the new price of each event whose price changed. The tenant's periods are locked first, so
     * a period either closes before (and keeps its prices: the audit reports the difference) or after
     * (and is finalized with the new ones). {@code beforeCommit} gets the changes inside the transaction
     * (a failure there rolls them back). Returns how many events changed price. Idempotent.
     */
    public int reprice(String tenantId, Instant from, Function<BillingRecord.Billed, BillingRecord.AppliedPrice> priceOf,
                       Consumer<List<Repricing>> beforeCommit) {
        Integer changed = tx.execute(status -> {
            jdbc.query("select invoice_id from billing_periods where tenant_id = ? for update", (rs, n) -> rs.getString(1), tenantId);
            List<BillingRecord.Billed> rows = jdbc.query("select " + BILLED_COLUMNS + " from billed_usage b where b.tenant_id = ? and b.event_time >= ? "
                    + "and not exists (select 1 from invoices i where i.tenant_id = b.tenant_id and i.period = b.invoice_period)",
                    BILLED, tenantId, Timestamp.from(from));
            var updates = new ArrayList<Object[]>();
            var changes = new ArrayList<Repricing>();
            for (BillingRecord.Billed row : rows) {
                BillingRecord.AppliedPrice price = priceOf.apply(row);
                if (!Objects.equals(price, row.price())) {
                    changes.add(new Repricing(row, price));
                    updates.add(new Object[]{price == null ? null : price.priceListId(),
                            price == null ? null : Timestamp.from(price.effectiveFrom()), price == null ? null : price.inputMicros(),
                            price == null ? null : price.cachedInputMicros(), price == null ? null : price.outputMicros(),
                            price == null ? null : price.cacheWriteInputMicros(), price == null ? null : price.reasoningMicros(),
                            price == null ? null : price.audioSecondMicros(), price == null ? null : price.documentMicros(),
                            price == null ? null : price.requestMicros(), row.eventId()});
                }
            }
            jdbc.batchUpdate("update billed_usage set price_list_id = ?, price_effective_from = ?, input_micros = ?, cached_input_micros = ?, "
                    + "output_micros = ?, cache_write_input_micros = ?, reasoning_micros = ?, audio_second_micros = ?, document_micros = ?, "
                    + "request_micros = ? where event_id = ?", updates);
            if (!changes.isEmpty()) {
                beforeCommit.accept(changes);
            }
            return updates.size();
        });
        return changed == null ? 0 : changed;
    }

    /** A billed row with what credit paid of it, per grant as JSON (read by {@link #BILLED}). */
    private static final String BILLED_COLUMNS = "b.*, (select json_object_agg(c.grant_id, c.amount::text) from billed_credits c "
            + "where c.event_id = b.event_id) as credit_grants";

    private static final RowMapper<BillingRecord.Billed> BILLED = (rs, n) -> {
        String priceListId = rs.getString("price_list_id");
        BillingRecord.AppliedPrice price = priceListId == null ? null : new BillingRecord.AppliedPrice(priceListId,
                rs.getTimestamp("price_effective_from").toInstant(), rs.getLong("input_micros"), rs.getLong("cached_input_micros"),
                rs.getLong("output_micros"), nullableLong(rs, "cache_write_input_micros"), nullableLong(rs, "reasoning_micros"),
                nullableLong(rs, "audio_second_micros"), nullableLong(rs, "document_micros"), nullableLong(rs, "request_micros"));
        BillingRecord.Units units = BillingRecord.Units.nonZero(rs.getLong("cache_write_prompt"), rs.getLong("reasoning"),
                rs.getLong("audio_seconds"), rs.getLong("documents"), rs.getLong("requests"));
        return new BillingRecord.Billed(rs.getString("event_id"), rs.getString("tenant_id"), rs.getString("key_id"), rs.getString("model"),
                rs.getTimestamp("event_time").toInstant(), rs.getLong("uncached_prompt"), rs.getLong("cached_prompt"), rs.getLong("completion"),
                rs.getString("invoice_period"), rs.getString("adjusts_period"), rs.getString("currency"), price, creditApplied(rs), units);
    };

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    private static CreditApplied creditApplied(ResultSet rs) throws SQLException {
        return CreditApplied.fromStored(rs.getString("credit_mode"), rs.getString("credit_grants"), rs.getBigDecimal("credit_unfunded"));
    }

    /** Every usage event billed on a tenant's period, adjustments included. */
    public List<BillingRecord.Billed> rows(String tenantId, String period) {
        return jdbc.query("select " + BILLED_COLUMNS + " from billed_usage b where b.tenant_id = ? and b.invoice_period = ?", BILLED, tenantId,
                period);
    }

    /** The invoice of billed rows, exactly as finalization computes it. */
    public static Computed compute(List<BillingRecord.Billed> rows) {
        var calculator = new InvoiceCalculator();
        var credits = new InvoiceCredits();
        var currencies = new LinkedHashSet<String>();
        for (BillingRecord.Billed row : rows) {
            PriceSchedule.ModelRates rates = row.price() == null ? null : row.price().rates();
            calculator.addPriced(row.usage(), row.adjustsPeriod(), row.price() == null ? null : row.price().priceListId(), rates);
            credits.add(row.eventId(), row.costMicros(), row.credit());
            if (row.currency() != null) {
                currencies.add(row.currency());
            }
        }
        if (currencies.size() > 1) {
            throw new IllegalStateException("usage of one invoice in several currencies: " + currencies);
        }
        String currency = currencies.isEmpty() ? "USD" : currencies.getFirst();
        return new Computed(currency, calculator.lines(), calculator.lineEventIds(), calculator.totalMicros(),
                rows.stream().map(BillingRecord.Billed::eventId).distinct().count(), calculator.unpriced().size(),
                credits.summary(calculator.totalMicros()));
    }

    /** The invoice with its lines: finalized, or the draft of an open period; empty if there is no such invoice. */
    public Optional<InvoiceView> invoice(String invoiceId) {
        List<String[]> period = jdbc.query("select tenant_id, period from billing_periods where invoice_id = ?",
                (rs, n) -> new String[]{rs.getString(1), rs.getString(2)}, invoiceId);
        if (period.isEmpty()) {
            return Optional.empty();
        }
        List<InvoiceView> finalized = jdbc.query("select * from invoices where invoice_id = ?", this::finalizedSummary, invoiceId);
        if (finalized.isEmpty()) {
            return Optional.of(draft(invoiceId, period.getFirst()[0], period.getFirst()[1], true));
        }
        List<InvoiceView.Line> lines = jdbc.query("select * from invoice_lines where invoice_id = ? order by line_no", InvoiceStore::line,
                invoiceId);
        InvoiceView summary = finalized.getFirst();
        List<InvoiceView.Credit> credits = jdbc.query("select * from invoice_credits where invoice_id = ? order by credit_no",
                (rs, n) -> credit(rs.getInt("credit_no"), rs.getString("grant_id"), rs.getLong("amount_micros")), invoiceId);
        return Optional.of(new InvoiceView(summary.invoiceId(), summary.tenantId(), summary.period(), summary.status(), summary.currency(),
                summary.totalMicros(), summary.total(), summary.eventCount(), summary.unpricedEvents(), summary.finalizedAt(),
                summary.stripe(), lines, credits, summary.creditedMicros(), summary.amountDueMicros(), summary.amountDue()));
    }

    /** A tenant's invoices, newest period first: finalized ones and drafts of open periods, without lines. */
    public List<InvoiceView> invoices(String tenantId) {
        var result = new ArrayList<InvoiceView>();
        Map<String, InvoiceView> finalized = new LinkedHashMap<>();
        jdbc.query("select * from invoices where tenant_id = ?", this::finalizedSummary, tenantId)
                .forEach(view -> finalized.put(view.invoiceId(), view));
        jdbc.query("select invoice_id, period from billing_periods where tenant_id = ? order by period desc",
                        (rs, n) -> new String[]{rs.getString(1), rs.getString(2)}, tenantId)
                .forEach(row -> result.add(finalized.containsKey(row[0]) ? finalized.get(row[0]) : draft(row[0], tenantId, row[1], false)));
        return result;
    }

    /**
     * Every tenant's invoice of one period (finalized, or the draft of an open one), without lines, by tenant, at most
     * {@code limit} from {@code offset}: finance's and auditors' view across tenants.
     */
    public List<InvoiceView> invoicesOfPeriod(String period, int limit, int offset) {
        var result = new ArrayList<InvoiceView>();
        Map<String, InvoiceView> finalized = new LinkedHashMap<>();
        jdbc.query("select * from invoices where period = ?", this::finalizedSummary, period).forEach(view -> finalized.put(view.invoiceId(), view));
        jdbc.query("select invoice_id, tenant_id from billing_periods where period = ? order by tenant_id, invoice_id limit ? offset ?",
                        (rs, n) -> new String[]{rs.getString(1), rs.getString(2)}, period, limit, offset)
                .forEach(row -> result.add(finalized.containsKey(row[0]) ? finalized.get(row[0]) : draft(row[0], row[1], period, false)));
        return result;
    }

    private InvoiceView draft(String invoiceId, String tenantId, String period, boolean withLines) {
        Computed computed = compute(rows(tenantId, period));
        List<InvoiceView.Line> lines = null;
        if (withLines) {
            lines = new ArrayList<>();
            for (int i = 0; i < computed.lines().size(); i++) {
                InvoiceLine line = computed.lines().get(i);
                List<String> ids = computed.lineEventIds().get(i);
                lines.add(new InvoiceView.Line(i + 1, line.model(), line.kind().name(), line.priceListId(), line.quantity(),
                        line.unitPriceMicrosPerMillion(), line.amountMicros(), line.eventCount(), line.firstEventTime(), line.lastEventTime(),
                        ids.getFirst(), ids.getLast(), line.eventDigest(), line.adjustsPeriod()));
            }
        }
        List<InvoiceView.Credit> credits = null;
        if (withLines) {
            credits = new ArrayList<>();
            List<InvoiceCredits.Credit> applied = computed.credits().credits();
            for (int i = 0; i < applied.size(); i++) {
                credits.add(credit(i + 1, applied.get(i).grantId(), applied.get(i).amountMicros()));
            }
        }
        long due = computed.credits().amountDueMicros();
        return new InvoiceView(invoiceId, tenantId, period, "DRAFT", computed.currency(), computed.totalMicros(),
                Money.format(computed.totalMicros()), computed.eventCount(), computed.unpricedEvents(), null, null, lines, credits,
                computed.credits().creditedMicros(), due, Money.format(due));
    }

    private InvoiceView finalizedSummary(ResultSet rs, int row) throws SQLException {
        Timestamp synced = rs.getTimestamp("stripe_synced_at");
        long stripeTotal = rs.getLong("stripe_total_minor");
        var stripe = new InvoiceView.Stripe(rs.getString("stripe_status"), rs.getString("stripe_customer_id"),
                rs.getString("stripe_invoice_id"), rs.wasNull() ? null : stripeTotal, rs.getInt("stripe_attempts"),
                rs.getString("stripe_last_error"), synced == null ? null : synced.toInstant());
        long total = rs.getLong("total_micros");
        long due = rs.getLong("amount_due_micros");
        return new InvoiceView(rs.getString("invoice_id"), rs.getString("tenant_id"), rs.getString("period"), rs.getString("status"),
                rs.getString("currency"), total, Money.format(total), rs.getLong("event_count"), rs.getLong("unpriced_events"),
                rs.getTimestamp("finalized_at").toInstant(), stripe, null, null, rs.getLong("credited_micros"), due, Money.format(due));
    }

    private static InvoiceView.Credit credit(int creditNo, String grantId, long amountMicros) {
        return new InvoiceView.Credit(creditNo, grantId == null ? "UNFUNDED" : "GRANT", grantId, amountMicros);
    }

    private static InvoiceView.Line line(ResultSet rs, int row) throws SQLException {
        return new InvoiceView.Line(rs.getInt("line_no"), rs.getString("model"), rs.getString("token_kind"), rs.getString("price_list_id"),
                rs.getLong("quantity"), rs.getLong("unit_price_micros_per_million"), rs.getLong("amount_micros"), rs.getLong("event_count"),
                rs.getTimestamp("first_event_time").toInstant(), rs.getTimestamp("last_event_time").toInstant(), rs.getString("first_event_id"),
                rs.getString("last_event_id"), rs.getString("event_digest"), rs.getString("adjusts_period"));
    }

    /** The tenant an invoice belongs to, if the invoice (final or draft) exists. */
    public Optional<String> tenantOf(String invoiceId) {
        return jdbc.query("select tenant_id from billing_periods where invoice_id = ?", (rs, n) -> rs.getString(1), invoiceId)
                .stream().findFirst();
    }

    // --- Stripe sync state -------------------------------------------------------------------

    public Optional<String> stripeCustomer(String tenantId) {
        return jdbc.query("select stripe_customer_id from stripe_customers where tenant_id = ?", (rs, n) -> rs.getString(1), tenantId)
                .stream().findFirst();
    }

    /** Stores the tenant's Stripe customer; if another sync stored one first, returns that one. */
    public String saveStripeCustomer(String tenantId, String customerId) {
        jdbc.update("insert into stripe_customers (tenant_id, stripe_customer_id) values (?, ?) on conflict (tenant_id) do nothing",
                tenantId, customerId);
        return stripeCustomer(tenantId).orElseThrow();
    }

    /** Counts an attempt and marks the invoice SYNCING; false if it is SYNCED already. */
    public boolean startSync(String invoiceId) {
        return jdbc.update("""
                update invoices set stripe_status = 'SYNCING', stripe_attempts = stripe_attempts + 1
                where invoice_id = ? and stripe_status <> 'SYNCED'""", invoiceId) == 1;
    }

    public void saveStripeInvoice(String invoiceId, String customerId, String stripeInvoiceId) {
        jdbc.update("update invoices set stripe_customer_id = ?, stripe_invoice_id = ? where invoice_id = ?", customerId, stripeInvoiceId,
                invoiceId);
    }

    /** The Stripe invoice item of each line already pushed, by line number. */
    public Map<Integer, String> stripeLineItems(String invoiceId) {
        return stripeItems("select line_no, stripe_invoice_item_id from invoice_lines", invoiceId);
    }

    private Map<Integer, String> stripeItems(String select, String invoiceId) {
        var items = new LinkedHashMap<Integer, String>();
        jdbc.query(select + " where invoice_id = ? and stripe_invoice_item_id is not null", rs -> {
            items.put(rs.getInt(1), rs.getString(2));
        }, invoiceId);
        return items;
    }

    /** The Stripe invoice item of each credit already pushed, by credit number. */
    public Map<Integer, String> stripeCreditItems(String invoiceId) {
        return stripeItems("select credit_no, stripe_invoice_item_id from invoice_credits", invoiceId);
    }

    public void saveStripeCreditItem(String invoiceId, int creditNo, String itemId) {
        jdbc.update("update invoice_credits set stripe_invoice_item_id = ? where invoice_id = ? and credit_no = ?", itemId, invoiceId, creditNo);
    }

    public void saveStripeLineItem(String invoiceId, int lineNo, String itemId) {
        jdbc.update("update invoice_lines set stripe_invoice_item_id = ? where invoice_id = ? and line_no = ?", itemId, invoiceId, lineNo);
    }

    public void syncSucceeded(String invoiceId, long stripeTotalMinor) {
        jdbc.update("""
                update invoices set stripe_status = 'SYNCED', stripe_total_minor = ?, stripe_synced_at = now(), stripe_last_error = null
                where invoice_id = ?""", stripeTotalMinor, invoiceId);
    }

    public void syncFailed(String invoiceId, String error) {
        jdbc.update("update invoices set stripe_status = 'FAILED', stripe_last_error = ? where invoice_id = ?",
                error.length() > 500 ? error.substring(0, 500) : error, invoiceId);
    }

    /**
     * Applies a verified Stripe webhook event once: false if its id was seen before. PAID and VOID
     * are final; a payment failure reported after the payment (Stripe may deliver out of order)
     * does not undo it.
     */
    public boolean applyStripeEvent(String eventId, String type, String stripeInvoiceId, String newStatus) {
        Boolean applied = tx.execute(status -> {
            int inserted = jdbc.update("insert into stripe_events (stripe_event_id, type, stripe_invoice_id) values (?, ?, ?) "
                    + "on conflict (stripe_event_id) do nothing", eventId, type, stripeInvoiceId);
            if (inserted == 0) {
                return false;
            }
            if (newStatus != null && stripeInvoiceId != null) {
                String guard = switch (newStatus) {
                    case "PAID" -> "status <> 'VOID'";
                    case "VOID" -> "status <> 'PAID'";
                    default -> "status not in ('PAID', 'VOID')";
                };
                int updated = jdbc.update("update invoices set status = ? where stripe_invoice_id = ? and " + guard, newStatus, stripeInvoiceId);
                if (updated == 0) {
                    LOG.warn("Stripe event {} ({}) for invoice {} changed no invoice", eventId, type, stripeInvoiceId);
                }
            }
            return true;
        });
        return Boolean.TRUE.equals(applied);
    }
}
