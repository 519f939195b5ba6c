package dev.tollgate.projector.invoice;

import dev.tollgate.billing.InvoiceIds;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Re-pricing after a ledger backfill, against PostgreSQL (ADR 0017): the events of open invoices
 * from the backfill's time on take the new price; a finalized invoice and the events before that
 * time keep theirs; a failure while publishing rolls the re-pricing back; and doing it twice
 * changes nothing the second time.
 */
class RepricingIT {
    private static final BillingRecord.AppliedPrice OLD = new BillingRecord.AppliedPrice("list-old", Instant.parse("2026-01-01T00:00:00Z"),
            1_000_000, 500_000, 2_000_000);
    private static final BillingRecord.AppliedPrice NEW = new BillingRecord.AppliedPrice("list-backfill", Instant.parse("2026-12-10T00:00:00Z"),
            3_000_000, 1_500_000, 6_000_000);
    private static final Instant BACKFILL_FROM = Instant.parse("2026-12-10T00:00:00Z");

    private static PostgresDatabase database;
    private static InvoiceStore store;
    private static JdbcTemplate jdbc;

    @BeforeAll
    static void migrate() {
        database = PostgresDatabase.create("repricing_it").migrate("classpath:db/billing");
        var dataSource = new DriverManagerDataSource(database.jdbcUrl(), database.user(), database.password());
        jdbc = new JdbcTemplate(dataSource);
        store = new InvoiceStore(jdbc, new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
    }

    @AfterAll
    static void drop() {
        database.close();
    }

    private static BillingRecord.Billed billed(String tenant, String eventId, String time, String period) {
        return new BillingRecord.Billed(eventId, tenant, "k", "m", Instant.parse(time), 1_000, 0, 500, period, null, "USD", OLD);
    }

    private static void write(BillingRecord... records) {
        var batch = new ArrayList<InvoiceStore.Positioned>();
        long offset = 0;
        for (BillingRecord record : records) {
            batch.add(new InvoiceStore.Positioned(record, 0, offset++));
        }
        store.apply(batch);
    }

    private static String priceListOf(String eventId) {
        return jdbc.queryForObject("select price_list_id from billed_usage where event_id = ?", String.class, eventId);
    }

    /** The backfill's price from its time on, the old one before. */
    private static BillingRecord.AppliedPrice backfilled(BillingRecord.Billed row) {
        return row.time().isBefore(BACKFILL_FROM) ? OLD : NEW;
    }

    @Test
    void openInvoicesFromTheBackfillOnArePricedAgainAndAFinalizedOneIsNot() {
        String tenant = "reprice-a";
        write(billed(tenant, "nov-1", "2026-11-20T00:00:00Z", "2026-11"),
                new BillingRecord.PeriodClosed(tenant, "2026-11", "UTC", Instant.parse("2026-12-01T02:00:00Z")),
                billed(tenant, "dec-before", "2026-12-05T00:00:00Z", "2026-12"),
                billed(tenant, "dec-after", "2026-12-15T00:00:00Z", "2026-12"),
                // A late November event billed on December's invoice as an adjustment: before the backfill's time.
                new BillingRecord.Billed("nov-late", tenant, "k", "m", Instant.parse("2026-11-30T23:00:00Z"), 10, 0, 10, "2026-12", "2026-11",
                        "USD", OLD));
        long finalizedTotal = jdbc.queryForObject("select total_micros from invoices where invoice_id = ?", Long.class,
                InvoiceIds.of(tenant, "2026-11"));
        var published = new ArrayList<InvoiceStore.Repricing>();

        // A backfill effective from November on: November is finalized and keeps its prices.
        int changed = store.reprice(tenant, Instant.parse("2026-11-01T00:00:00Z"), row -> NEW, published::addAll);

        assertThat(changed).isEqualTo(3);
        assertThat(priceListOf("nov-1")).as("finalized November keeps its price").isEqualTo("list-old");
        assertThat(jdbc.queryForObject("select total_micros from invoices where invoice_id = ?", Long.class, InvoiceIds.of(tenant, "2026-11")))
                .isEqualTo(finalizedTotal);
        assertThat(priceListOf("dec-before")).isEqualTo("list-backfill");
        assertThat(priceListOf("dec-after")).isEqualTo("list-backfill");
        assertThat(published).extracting(r -> r.row().eventId()).containsExactlyInAnyOrder("dec-before", "dec-after", "nov-late");
        assertThat(published).allSatisfy(r -> assertThat(r.row().price()).as("the change carries the old price").isEqualTo(OLD));

        // The draft is computed from the new prices.
        InvoiceStore.Computed draft = InvoiceStore.compute(store.rows(tenant, "2026-12"));
        assertThat(draft.lines()).allSatisfy(line -> assertThat(line.priceListId()).isEqualTo("list-backfill"));

        // Twice: nothing left to change, nothing published.
        published.clear();
        assertThat(store.reprice(tenant, Instant.parse("2026-11-01T00:00:00Z"), row -> NEW, published::addAll)).isZero();
        assertThat(published).isEmpty();
    }

    @Test
    void onlyEventsFromTheBackfillsTimeOnChange() {
        String tenant = "reprice-b";
        write(billed(tenant, "b-before", "2026-12-05T00:00:00Z", "2026-12"), billed(tenant, "b-after", "2026-12-15T00:00:00Z", "2026-12"));
        assertThat(store.reprice(tenant, BACKFILL_FROM, RepricingIT::backfilled, changes -> {})).isEqualTo(1);
        assertThat(priceListOf("b-before")).isEqualTo("list-old");
        assertThat(priceListOf("b-after")).isEqualTo("list-backfill");
    }

    @Test
    void aFailureWhilePublishingRollsTheRepricingBackSoThatTheRetryFindsItStillToDo() {
        String tenant = "reprice-c";
        write(billed(tenant, "c-1", "2026-12-15T00:00:00Z", "2026-12"));
        assertThatThrownBy(() -> store.reprice(tenant, BACKFILL_FROM, row -> NEW, changes -> {
            throw new IllegalStateException("Kafka refused");
        })).hasMessageContaining("Kafka refused");
        assertThat(priceListOf("c-1")).isEqualTo("list-old");
        List<InvoiceStore.Repricing> retried = new ArrayList<>();
        assertThat(store.reprice(tenant, BACKFILL_FROM, row -> NEW, retried::addAll)).isEqualTo(1);
        assertThat(retried).hasSize(1);
    }
}
