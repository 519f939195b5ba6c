package dev.tollgate.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.stripe.StripeClient;
import dev.tollgate.billing.InvoiceCalculator;
import dev.tollgate.billing.InvoiceLine;
import dev.tollgate.billing.Money;
import dev.tollgate.billing.PriceUnit;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.billing.credit.CreditStatement;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code tollgate-audit}: replays the event log with the projector's own billing code and checks
 * every invoice against it (exit code 1 on any mismatch, 2 on a usage error). See docs/AUDIT.md.
 */
@Command(name = "tollgate-audit", mixinStandardHelpOptions = true, version = "tollgate-audit 0.1.0",
        description = "Replays usage.v1 and ledger.events.v1 and reproduces every invoice, without disturbing the live consumers.",
        subcommands = {AuditCli.ReplayCommand.class, AuditCli.VerifyInvoiceCommand.class, AuditCli.BalanceCommand.class,
                AuditCli.ExportCommand.class})
public final class AuditCli {
    static final ObjectMapper JSON = EventCodec.newMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Where to read the log and the stored invoices. */
    static class Sources {
        @Option(names = "--bootstrap-servers", defaultValue = "${env:TOLLGATE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}",
                description = "Kafka to read the log from (no consumer group: nothing is committed). Default: ${DEFAULT-VALUE}")
        String bootstrapServers;

        @Option(names = "--from-file", description = "read the log from an export (tollgate-audit export) instead of Kafka")
        Path fromFile;

        @Option(names = "--database-url", defaultValue = "${env:TOLLGATE_BILLING_DB_URL}",
                description = "the billing database (JDBC URL) whose invoices are checked; without it, recompute only")
        String databaseUrl;

        @Option(names = "--database-user", defaultValue = "${env:TOLLGATE_BILLING_DB_USER:-postgres}")
        String databaseUser;

        @Option(names = "--database-password", defaultValue = "${env:TOLLGATE_BILLING_DB_PASSWORD:-}")
        String databasePassword;

        @Option(names = "--stripe-api-key", defaultValue = "${env:TOLLGATE_STRIPE_API_KEY}",
                description = "a (restricted, read-only) Stripe key to compare Stripe's totals")
        String stripeKey;

        @Option(names = "--stripe-api-base", defaultValue = "${env:TOLLGATE_STRIPE_API_BASE:-https://api.stripe.com}")
        String stripeBase;

        @Option(names = "--grace", defaultValue = "${env:TOLLGATE_PROJECTOR_GRACE:-PT2H}",
                description = "the projector's grace (ISO-8601); must match its configuration. Default: ${DEFAULT-VALUE}")
        Duration grace;

        @Option(names = "--minor-unit-digits", defaultValue = "2", description = "decimals of the currency's minor unit, as sent to Stripe")
        int minorUnitDigits;

        LogSource log() {
            return fromFile != null ? new ExportFile(fromFile) : new KafkaSource(bootstrapServers);
        }

        StoredInvoices stored() throws Exception {
            return databaseUrl == null || databaseUrl.isBlank() ? null : new StoredInvoices(databaseUrl, databaseUser, databasePassword);
        }

        StripeClient stripe() {
            return stripeKey == null || stripeKey.isBlank() ? null
                    : StripeClient.builder().setApiKey(stripeKey).setApiBase(stripeBase).setMaxNetworkRetries(2).build();
        }

        /** The ledger's history from {@code ledger.events.v1}. */
        LedgerHistory ledger(LogSource log) throws Exception {
            var ledger = new LedgerHistory();
            log.read(Topics.LEDGER_EVENTS.name(), record -> {
                try {
                    ledger.apply(EventCodec.decode(record.value()));
                } catch (EventFormatException e) {
                    ledger.undecodable(record, e.getMessage());
                }
            }, null);
            return ledger;
        }

        /** Reads the ledger, then replays the usage of {@code period}. */
        Replay replay(YearMonth period, String tenant, PrintStream progressOut) throws Exception {
            LogSource log = log();
            LedgerHistory ledger = ledger(log);
            var replay = new Replay(period, tenant, grace, ledger);
            long total = log.size(Topics.USAGE.name());
            var progress = new Progress(progressOut, "replaying usage.v1", total);
            log.read(Topics.USAGE.name(), replay::usage, progress);
            progress.finish(replay.records());
            return replay;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Recompute a period's invoices from the log; compare with PostgreSQL and Stripe; exit 1 on any mismatch or undecodable record.")
    static final class ReplayCommand implements Callable<Integer> {
        @Option(names = "--period", required = true, description = "YYYY-MM (the tenants' billing months)")
        YearMonth period;

        @Option(names = "--tenant", description = "only this tenant")
        String tenant;

        @Option(names = "--format", defaultValue = "text", description = "text or json")
        String format;

        @Option(names = "--accept-undecodable", description = "do not fail on log records that do not decode (they are still "
                + "counted and listed, and the report says they were accepted)")
        boolean acceptUndecodable;

        @CommandLine.Mixin
        Sources sources = new Sources();

        @Override
        public Integer call() throws Exception {
            Replay replay = sources.replay(period, tenant, System.err);
            List<Audit.TenantReport> reports;
            try (StoredInvoices stored = sources.stored()) {
                reports = new Audit(stored, sources.stripe(), sources.minorUnitDigits).compare(replay, tenant);
            }
            List<String> undecodable = replay.ledger().undecodable();
            boolean anyUndecodable = replay.malformed() > 0 || !undecodable.isEmpty();
            boolean reproduced = replay.problems().isEmpty() && reports.stream().allMatch(Audit.TenantReport::ok);
            boolean ok = reproduced && (acceptUndecodable || !anyUndecodable);
            if (format.equals("json")) {
                System.out.println(JSON.writeValueAsString(Map.of("period", period.toString(), "ok", ok, "records", replay.records(),
                        "malformed", replay.malformed(), "malformedRecords", replay.malformedAt(), "undecodableLedgerRecords", undecodable,
                        "undecodableAccepted", acceptUndecodable && anyUndecodable, "duplicates", replay.duplicates(),
                        "logProblems", replay.problems(), "tenants", reports)));
            } else {
                System.out.printf("period %s: %,d usage records read, %,d malformed, %,d duplicate ids; %,d ledger records undecodable%n",
                        period, replay.records(), replay.malformed(), replay.duplicates(), undecodable.size());
                System.out.printf("%-24s %-9s %10s %14s %12s %14s %14s %14s %12s %12s%n", "tenant", "status", "events", "input", "cached",
                        "output", "recomputed", "stored", "stripe", "expected");
                for (Audit.TenantReport r : reports) {
                    System.out.printf("%-24s %-9s %,10d %,14d %,12d %,14d %14s %14s %12s %12s%n", r.tenantId(), r.status(), r.events(),
                            r.inputTokens(), r.cachedInputTokens(), r.outputTokens(), Money.format(r.recomputedMicros()),
                            r.storedMicros() == null ? "-" : Money.format(r.storedMicros()),
                            r.stripeMinorUnits() == null ? "-" : r.stripeMinorUnits(),
                            r.expectedStripeMinorUnits() == null ? "-" : r.expectedStripeMinorUnits());
                }
                for (Audit.TenantReport r : reports) {
                    if (!r.credits().isEmpty()) {
                        System.out.printf("%-24s credits applied %s: %s; amount due %s%n", r.tenantId(), Money.format(r.creditedMicros()),
                                r.credits().stream().map(c -> c.getOrDefault("grantId", "unfunded") + " " + Money.format((Long) c.get("amountMicros")))
                                        .toList(), Money.format(r.amountDueMicros()));
                    }
                }
                replay.problems().forEach(p -> System.out.println("MISMATCH " + p));
                reports.forEach(r -> r.problems().forEach(p -> System.out.println("MISMATCH " + p)));
                String verdict = acceptUndecodable ? "ACCEPTED" : "UNDECODABLE";
                undecodable.forEach(p -> System.out.println(verdict + " ledger record " + p));
                replay.malformedAt().forEach(p -> System.out.println(verdict + " usage record " + p));
                if (anyUndecodable) {
                    System.out.println(acceptUndecodable
                            ? "NOTE: undecodable records were skipped at the auditor's request (--accept-undecodable); the totals above assume they bill nothing and price nothing"
                            : "UNDECODABLE RECORDS: the log could not be read whole, so this replay proves nothing about them (--accept-undecodable to accept)");
                }
                System.out.println(!reproduced ? "MISMATCHES FOUND" : ok ? "OK: every invoice reproduced exactly" : "NOT PROVEN: undecodable records");
            }
            return ok ? 0 : 1;
        }
    }

    @Command(name = "verify-invoice", mixinStandardHelpOptions = true,
            description = "Recompute each line's digest over its event ids and prove the invoice covers exactly those events.")
    static final class VerifyInvoiceCommand implements Callable<Integer> {
        @Parameters(index = "0", description = "the invoice id (inv_...)")
        String invoiceId;

        @CommandLine.Mixin
        Sources sources = new Sources();

        @Override
        public Integer call() throws Exception {
            try (StoredInvoices stored = sources.stored()) {
                if (stored == null) {
                    System.err.println("verify-invoice needs --database-url (or TOLLGATE_BILLING_DB_URL)");
                    return 2;
                }
                var period = stored.period(invoiceId);
                if (period.isEmpty()) {
                    System.err.println("no invoice " + invoiceId);
                    return 2;
                }
                String tenant = period.get()[0];
                Replay replay = sources.replay(YearMonth.parse(period.get()[1]), tenant, System.err);
                Replay.TenantReplay recomputed = replay.tenants().getOrDefault(tenant, null);
                InvoiceCalculator calculator = recomputed == null ? new InvoiceCalculator() : recomputed.calculator();
                List<InvoiceLine> lines = calculator.lines();
                List<List<String>> ids = calculator.lineEventIds();
                Map<String, StoredInvoices.Billed> billed = stored.billed(tenant, period.get()[1]);
                List<StoredInvoices.Line> storedLines = stored.lines(invoiceId);
                boolean ok = !storedLines.isEmpty() || lines.isEmpty();
                System.out.printf("invoice %s of tenant %s for %s: %d stored lines%n", invoiceId, tenant, period.get()[1], storedLines.size());
                for (StoredInvoices.Line line : storedLines) {
                    int index = -1;
                    for (int i = 0; i < lines.size(); i++) {
                        InvoiceLine l = lines.get(i);
                        String key = (l.adjustsPeriod() == null ? "" : l.adjustsPeriod()) + "|" + l.model() + "|" + l.kind() + "|" + l.priceListId();
                        if (key.equals(line.key())) {
                            index = i;
                        }
                    }
                    List<String> logIds = index < 0 ? List.of() : ids.get(index);
                    String digest = InvoiceCalculator.digest(logIds);
                    boolean same = digest.equals(line.digest()) && logIds.size() == line.eventCount();
                    ok &= same;
                    System.out.printf("line %d %s %s %s%s: %d events, digest %s%n", line.lineNo(), line.model(), line.kind(), line.priceListId(),
                            line.adjustsPeriod() == null ? "" : " (adjusts " + line.adjustsPeriod() + ")", line.eventCount(),
                            same ? "verified over the log's event ids" : "DIFFERS: stored " + line.digest() + ", log " + digest);
                    if (!same) {
                        var stored1 = new TreeSet<String>();
                        billed.values().stream().filter(b -> line.model().equals(b.model()) && line.priceListId().equals(b.priceListId())
                                && Objects.equals(line.adjustsPeriod(), b.adjustsPeriod()) && quantity(b, line.kind()) > 0)
                                .forEach(b -> stored1.add(b.eventId()));
                        var missing = new TreeSet<>(stored1);
                        missing.removeAll(logIds);
                        var extra = new TreeSet<>(logIds);
                        extra.removeAll(stored1);
                        if (!missing.isEmpty()) {
                            System.out.println("  billed but not in the log: " + limit(missing));
                        }
                        if (!extra.isEmpty()) {
                            System.out.println("  in the log but not billed: " + limit(extra));
                        }
                        if (missing.isEmpty() && extra.isEmpty()) {
                            System.out.println("  the same event ids: the stored line itself was changed");
                        }
                    }
                }
                System.out.println(ok ? "OK: the invoice covers exactly these events" : "MISMATCH");
                return ok ? 0 : 1;
            }
        }

        /** What a billed event puts on a line of {@code unit}: 0 when it feeds none. */
        private static long quantity(StoredInvoices.Billed b, String unit) {
            return b.rates() == null ? 0 : PriceUnit.valueOf(unit).quantityOf(b.counts(), b.rates());
        }

        private static String limit(TreeSet<String> ids) {
            var shown = new ArrayList<>(ids).subList(0, Math.min(20, ids.size()));
            return String.join(", ", shown) + (ids.size() > 20 ? " ... (" + ids.size() + " in all)" : "");
        }
    }

    @Command(name = "balance", mixinStandardHelpOptions = true,
            description = "A tenant's prepaid balance recomputed from the log: every grant, what usage burned of it, what is left; "
                    + "without --at, also compared with the projector's live balance (exit 1 if they differ).")
    static final class BalanceCommand implements Callable<Integer> {
        @Parameters(index = "0", description = "the tenant id")
        String tenant;

        @Option(names = "--at", description = "the instant (ISO-8601, e.g. 2026-11-30T23:59:59Z) of the balance; default now")
        Instant at;

        @Option(names = "--format", defaultValue = "text", description = "text or json")
        String format;

        @CommandLine.Mixin
        Sources sources = new Sources();

        @Override
        public Integer call() throws Exception {
            LogSource log = sources.log();
            LedgerHistory ledger = sources.ledger(log);
            Instant when = at == null ? Instant.now() : at;
            var replay = new BalanceReplay(ledger, tenant, at);
            var progress = new Progress(System.err, "replaying usage.v1", log.size(Topics.USAGE.name()));
            log.read(Topics.USAGE.name(), replay::usage, progress);
            progress.finish(log.size(Topics.USAGE.name()));
            CreditStatement statement = replay.statement(tenant, when);
            CreditBurn burn = replay.burns().getOrDefault(tenant, CreditBurn.NONE);
            // The live burn is only the projector's now, and only on the cluster (an export holds no quota state).
            QuotaState live = at != null || sources.fromFile != null ? null : LiveBalances.read(log, tenant);
            List<String> mismatches = live == null ? List.of() : LiveBalances.compare(burn, live);
            boolean undecodable = !ledger.undecodable().isEmpty();
            if (format.equals("json")) {
                var report = new LinkedHashMap<String, Object>();
                report.put("ok", mismatches.isEmpty() && !undecodable);
                report.put("statement", statement);
                report.put("liveVersion", live == null ? null : live.version());
                report.put("mismatches", mismatches);
                report.put("undecodableLedgerRecords", ledger.undecodable());
                System.out.println(JSON.writeValueAsString(report));
            } else {
                System.out.printf("tenant %s (%s, %s) at %s: granted %s, used %s, unfunded %s, remaining %s%n", tenant, statement.currency(),
                        statement.mode(), when, Money.format(statement.grantedMicros()), Money.format(statement.usedMicros()),
                        Money.format(statement.unfundedMicros()), Money.format(statement.remainingMicros()));
                for (CreditStatement.GrantLine g : statement.grants()) {
                    System.out.printf("  grant %s %-10s %14s granted %s%s%s%s%s%s: used %s, left %s, %s%n", g.grantId(), g.source(),
                            Money.format(g.amountMicros()), g.grantedAt(), g.expiresAt() == null ? "" : ", expires " + g.expiresAt(),
                            g.voidedAt() == null ? "" : ", voided " + g.voidedAt(),
                            g.withdrawnMicros() == 0 ? "" : ", refunded " + Money.format(g.withdrawnMicros()),
                            g.models().isEmpty() ? "" : ", for models " + String.join(",", g.models()),
                            g.endpoints().isEmpty() ? "" : ", at " + g.endpoints(), Money.format(g.usedMicros()), Money.format(g.remainingMicros()),
                            g.status());
                }
                ledger.undecodable().forEach(p -> System.out.println("UNDECODABLE ledger record " + p));
                mismatches.forEach(p -> System.out.println("MISMATCH " + p));
                if (live != null) {
                    System.out.println(mismatches.isEmpty() ? "OK: the projector's live balance (quota.state.v1 version " + live.version()
                            + ") is the replayed one" : "MISMATCHES FOUND");
                }
            }
            return mismatches.isEmpty() && !undecodable ? 0 : 1;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Copy usage.v1 and ledger.events.v1 into a file for an offline audit (replay --from-file).")
    static final class ExportCommand implements Callable<Integer> {
        @Option(names = "--period", required = true, description = "YYYY-MM, recorded in the file as the period to audit")
        YearMonth period;

        @Option(names = "--out", required = true, description = "FILE.jsonl.gz")
        Path out;

        @Option(names = "--bootstrap-servers", defaultValue = "${env:TOLLGATE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}")
        String bootstrapServers;

        @Override
        public Integer call() throws Exception {
            var source = new KafkaSource(bootstrapServers);
            long total = source.size(Topics.LEDGER_EVENTS.name()) + source.size(Topics.USAGE.name());
            var progress = new Progress(System.err, "exporting", total);
            // The whole log: which events of a period are late depends on the events after it, and late events of earlier
            // periods bill on this one, so a partial copy could not reproduce the invoice.
            long written = ExportFile.write(out, period.toString(), source, List.of(Topics.LEDGER_EVENTS.name(), Topics.USAGE.name()), progress);
            progress.finish(written);
            System.out.printf("exported %,d records to %s%n", written, out);
            return 0;
        }
    }

    /** Runs a command line; returns the exit code. */
    public static int run(String... args) {
        return new CommandLine(new AuditCli()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }
}
