package dev.tollgate.audit;

import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageCounts;
import dev.tollgate.billing.credit.CreditApplied;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The billing service's tables, read (never written) over JDBC. */
public final class StoredInvoices implements AutoCloseable {
    /** A stored invoice header. */
    public record Invoice(String invoiceId, String tenantId, String period, String status, String currency, long totalMicros,
                          String stripeInvoiceId, Long stripeTotalMinor, long creditedMicros, long amountDueMicros) {}

    /** A stored credit applied (ADR 0028): a grant's, or the unfunded prepaid part (grant id null). */
    public record Credit(int creditNo, String grantId, long amountMicros) {}

    /** A stored line. */
    public record Line(int lineNo, String model, String kind, String priceListId, long quantity, long unitPrice, long amountMicros,
                       long eventCount, String digest, String adjustsPeriod) {
        public String key() {
            return (adjustsPeriod == null ? "" : adjustsPeriod) + "|" + model + "|" + kind + "|" + priceListId;
        }
    }

    /** What was billed for one event: its counts, the invoice line keys it fed, and the rates it was billed at (null: unpriced). */
    public record Billed(String eventId, UsageCounts counts, String model, String priceListId, String adjustsPeriod,
                         CreditApplied credit, PriceSchedule.ModelRates rates) {}

    private final Connection connection;

    public StoredInvoices(String jdbcUrl, String user, String password) throws SQLException {
        this.connection = DriverManager.getConnection(jdbcUrl, user, password);
        this.connection.setReadOnly(true);
    }

    public Optional<Invoice> invoice(String invoiceId) throws SQLException {
        try (PreparedStatement q = connection.prepareStatement("select * from invoices where invoice_id = ?")) {
            q.setString(1, invoiceId);
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                long stripeTotal = rs.getLong("stripe_total_minor");
                return Optional.of(new Invoice(rs.getString("invoice_id"), rs.getString("tenant_id"), rs.getString("period"),
                        rs.getString("status"), rs.getString("currency"), rs.getLong("total_micros"), rs.getString("stripe_invoice_id"),
                        stripeTotalNull(rs) ? null : stripeTotal, rs.getLong("credited_micros"), rs.getLong("amount_due_micros")));
            }
        }
    }

    /** Tenant and period of an invoice (finalized or not), from its id. */
    public Optional<String[]> period(String invoiceId) throws SQLException {
        try (PreparedStatement q = connection.prepareStatement("select tenant_id, period from billing_periods where invoice_id = ?")) {
            q.setString(1, invoiceId);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? Optional.of(new String[]{rs.getString(1), rs.getString(2)}) : Optional.empty();
            }
        }
    }

    private static boolean stripeTotalNull(ResultSet rs) throws SQLException {
        rs.getLong("stripe_total_minor");
        return rs.wasNull();
    }

    /** The credits applied on a finalized invoice, in order. */
    public List<Credit> credits(String invoiceId) throws SQLException {
        var credits = new ArrayList<Credit>();
        try (PreparedStatement q = connection.prepareStatement("select * from invoice_credits where invoice_id = ? order by credit_no")) {
            q.setString(1, invoiceId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    credits.add(new Credit(rs.getInt("credit_no"), rs.getString("grant_id"), rs.getLong("amount_micros")));
                }
            }
        }
        return credits;
    }

    public List<Line> lines(String invoiceId) throws SQLException {
        var lines = new ArrayList<Line>();
        try (PreparedStatement q = connection.prepareStatement("select * from invoice_lines where invoice_id = ? order by line_no")) {
            q.setString(1, invoiceId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    lines.add(new Line(rs.getInt("line_no"), rs.getString("model"), rs.getString("token_kind"), rs.getString("price_list_id"),
                            rs.getLong("quantity"), rs.getLong("unit_price_micros_per_million"), rs.getLong("amount_micros"),
                            rs.getLong("event_count"), rs.getString("event_digest"), rs.getString("adjusts_period")));
                }
            }
        }
        return lines;
    }

    /** Every event billed on a tenant's period, by id. */
    public Map<String, Billed> billed(String tenantId, String period) throws SQLException {
        var billed = new HashMap<String, Billed>();
        try (PreparedStatement q = connection.prepareStatement("select b.*, (select json_object_agg(c.grant_id, c.amount::text) "
                + "from billed_credits c where c.event_id = b.event_id) as credit_grants from billed_usage b "
                + "where b.tenant_id = ? and b.invoice_period = ?")) {
            q.setString(1, tenantId);
            q.setString(2, period);
            q.setFetchSize(10_000);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    var counts = new UsageCounts(rs.getLong("uncached_prompt"), rs.getLong("cached_prompt"), rs.getLong("cache_write_prompt"),
                            rs.getLong("completion"), rs.getLong("reasoning"), rs.getLong("audio_seconds"), rs.getLong("documents"),
                            rs.getLong("requests"));
                    billed.put(rs.getString("event_id"), new Billed(rs.getString("event_id"), counts, rs.getString("model"),
                            rs.getString("price_list_id"), rs.getString("adjusts_period"), credit(rs), rates(rs)));
                }
            }
        }
        return billed;
    }

    /** The rates a billed row was priced at, as the invoice writer stored them; null when none priced it. */
    private static PriceSchedule.ModelRates rates(ResultSet rs) throws SQLException {
        if (rs.getString("price_list_id") == null) {
            return null;
        }
        return new PriceSchedule.ModelRates(rs.getLong("input_micros"), rs.getLong("cached_input_micros"), rs.getLong("output_micros"),
                nullableLong(rs, "cache_write_input_micros"), nullableLong(rs, "reasoning_micros"), nullableLong(rs, "audio_second_micros"),
                nullableLong(rs, "document_micros"), nullableLong(rs, "request_micros"));
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    /** What credit paid of a billed row, as the invoice writer stored it; null when it burned none. */
    private static CreditApplied credit(ResultSet rs) throws SQLException {
        return CreditApplied.fromStored(rs.getString("credit_mode"), rs.getString("credit_grants"), rs.getBigDecimal("credit_unfunded"));
    }

    /** Tenants with billed usage on a period. */
    public List<String> tenants(String period) throws SQLException {
        var tenants = new ArrayList<String>();
        try (PreparedStatement q = connection.prepareStatement("select tenant_id from billing_periods where period = ? order by tenant_id")) {
            q.setString(1, period);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    tenants.add(rs.getString(1));
                }
            }
        }
        return tenants;
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
