package dev.tollgate.audit.differential;

import dev.tollgate.audit.BalanceReplay;
import dev.tollgate.audit.CliRun;
import dev.tollgate.audit.KafkaSource;
import dev.tollgate.audit.LedgerHistory;
import dev.tollgate.audit.LiveBalances;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.projector.BillingServiceApplication;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.reprice.BackfillRepricer;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.auth.TestTokens;
import dev.tollgate.testkit.kafka.ConsumerGroups;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.Set;
import java.util.HashSet;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The proof of issue #18: the live pipeline bills exactly what the auditor replays. Seeded random
 * histories ({@link BillingHistories}: zones, plans changed in the past and for the future, price
 * lists added mid-period, duplicates and late events across period boundaries) go onto the topics as
 * the ledger and the gateways write them; the real billing service (Kafka Streams exactly-once
 * projector, invoice writer, PostgreSQL) bills them; then {@code tollgate-audit replay} recomputes
 * every invoice of every period from the log alone and compares each line with PostgreSQL to the
 * micro-unit; and every tenant's usage report, month by month, equals the invoice lines for the same
 * events ({@link UsageReportsAgainstInvoices}). Each tenant is an independent history, so a failure names the seed and prints the
 * smallest history that shows it: the failing tenant's own.
 *
 * <p>{@code -Ddifferential.seed=N} replays one seed; {@code -Ddifferential.histories=N} sets how many
 * tenants (200 by default; {@code -Pexhaustive} runs 2,000).
 */
class DifferentialBillingIT {
    private static final long SEED = Long.getLong("differential.seed", 20_261_201L);
    private static final int HISTORIES = Integer.getInteger("differential.histories", 200);
    private static final List<String> PERIODS = List.of("2026-10", "2026-11", "2026-12");
    private static final String JWT_SECRET = "differential-it-secret-long-enough-for-hs256";
    private static final Duration SEND_TIMEOUT = Duration.ofMinutes(3);
    private static final Pattern TENANT_FINDING = Pattern.compile("(t\\d+-[0-9a-f]+)");

    @Test
    void everyInvoiceTheLivePipelineWritesIsTheOneTheAuditReplays() throws Exception {
        BillingHistories.Platform platform = BillingHistories.platform(SEED);
        List<BillingHistories.History> histories = IntStream.range(0, HISTORIES).mapToObj(i -> BillingHistories.tenant(SEED, i)).toList();
        long expectedEvents = histories.stream().mapToLong(BillingHistories::distinctEvents).sum();
        System.out.printf("[differential] seed %d: %d histories, %d distinct usage events, %d price lists%n", SEED, histories.size(),
                expectedEvents, platform.priceLists().size());

        try (EmbeddedKafka kafka = EmbeddedKafka.startEphemeral(); PostgresDatabase database = PostgresDatabase.create("differential_it")) {
            produce(kafka, platform, histories);
            var repricedBurning = new HashSet<String>();
            String[] args = {"--server.port=0", "--spring.datasource.url=" + database.jdbcUrl(), "--spring.datasource.username=" + database.user(),
                    "--spring.datasource.password=" + database.password(), "--tollgate.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                    "--tollgate.projector.application-id=differential-it",
                    "--tollgate.projector.state-dir=" + Files.createTempDirectory("differential-it"), "--tollgate.projector.grace=PT1H",
                    "--tollgate.invoice-writer.group-id=differential-it-writer",
                    "--tollgate.jwt.hs256-secret=" + JWT_SECRET, "--tollgate.jwt.issuer=t",
                    "--tollgate.jwt.audience=a"};
            long started = System.nanoTime();
            try (ConfigurableApplicationContext billing = BillingServiceApplication.builder().run(args)) {
                await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500)).until(() ->
                        scalar(database, "select count(*) from billed_usage") == expectedEvents
                                && scalar(database, "select count(*) from billing_periods where period <= '2026-11' and closed_at_stream_time is null") == 0
                                && scalar(database, "select count(*) from billing_periods where period <= '2026-11'")
                                == scalar(database, "select count(*) from invoices where period <= '2026-11'"));
                System.out.printf("[differential] billed %d events in %.1f s%n", expectedEvents, (System.nanoTime() - started) / 1e9);

                // Prepaid balances: the projector's burn of every grant equals the audit's replay from the log alone (before the
                // late backfills, which re-price invoices but not credit already burned: ADR 0027).
                assertThat(awaitBalancesReplayed(kafka, histories)).as("seed %d: balances that differ from the replay", SEED).isEmpty();

                // Backfills published after the usage they price was billed: the open (December) invoices and the usage
                // reports are priced again, as the audit prices them.
                Map<String, String> pricedBefore = prices(database);
                int latePlans = publishLate(kafka, platform, histories);
                ConsumerGroups.awaitConsumed(kafka.bootstrapServers(), BackfillRepricer.groupId(billing.getBean(BillingProperties.class)),
                        Topics.LEDGER_EVENTS.name(), Duration.ofMinutes(2));
                Thread.sleep(BackfillRepricer.SECOND_PASS.plusSeconds(2).toMillis()); // the re-pricer's second pass
                ConsumerGroups.awaitConsumed(kafka.bootstrapServers(), "differential-it", Topics.USAGE_REPRICED.name(), Duration.ofMinutes(2));
                Map<String, String> pricedAfter = prices(database);
                long repriced = pricedAfter.entrySet().stream().filter(e -> !Objects.equals(e.getValue(), pricedBefore.get(e.getKey()))).count();
                repricedBurning.addAll(tenantsWithCreditOn(database, pricedAfter.keySet().stream()
                        .filter(id -> !Objects.equals(pricedAfter.get(id), pricedBefore.get(id))).collect(Collectors.toSet())));
                System.out.printf("[differential] late backfills (%d plan assignments, %d price lists): %d billed events priced again%n",
                        latePlans, platform.lateLists().size(), repriced);
                if (latePlans + platform.lateLists().size() > 0) {
                    assertThat(repriced).as("events priced again after the late backfills").isPositive();
                }
                System.out.printf("[differential] billed without a tenant state: %d, without a price: %d%n",
                        scalar(database, "select count(*) from billed_usage where currency is null"),
                        scalar(database, "select count(*) from billed_usage where price_list_id is null"));

                var reports = new UsageReportsAgainstInvoices(Integer.parseInt(billing.getEnvironment().getProperty("local.server.port")),
                        new TestTokens(JWT_SECRET, "t", "a"));
                var differences = new ArrayList<String>();
                for (BillingHistories.History history : histories) {
                    differences.addAll(reports.compare(history.tenantId(), "2026-10-01", "2026-12-31"));
                }
                System.out.printf("[differential] usage reports against invoice lines: %d tenants x 3 months, %d differences%n",
                        histories.size(), differences.size());
                assertThat(differences).as("seed %d: usage reports that differ from the invoices", SEED).isEmpty();
            }

            var failures = new ArrayList<String>();
            for (String period : PERIODS) {
                CliRun replay = CliRun.of("replay", "--period", period, "--grace", "PT1H", "--bootstrap-servers", kafka.bootstrapServers(),
                        "--database-url", database.jdbcUrl(), "--database-user", database.user(), "--database-password", database.password());
                long tenants = scalar(database, "select count(*) from billing_periods where period = '" + period + "'");
                System.out.printf("[differential] audit replay %s: exit %d, %d tenants with usage%n", period, replay.code(), tenants);
                if (replay.code() != 0) {
                    List<String> mismatches = replay.out().lines()
                            .filter(line -> line.startsWith("MISMATCH ") || line.startsWith("UNDECODABLE")).toList();
                    // ADR 0028: a backfill re-prices usage whose credit was already applied; the audit burns at the new prices.
                    List<String> unexplained = mismatches.stream().filter(line -> !knownCreditDifference(line, repricedBurning)).toList();
                    System.out.printf("[differential] audit replay %s: %d differences, %d of them credit applied to usage of the %d "
                            + "prepaid/hybrid tenants whose usage a late backfill re-priced (known, ADR 0028)%n", period, mismatches.size(),
                            mismatches.size() - unexplained.size(), repricedBurning.size());
                    if (!unexplained.isEmpty()) {
                        failures.add(report(period, String.join("\n", unexplained), histories));
                    }
                }
            }
            assertThat(failures).as("seed %d (rerun with -Ddifferential.seed=%d)", SEED, SEED).isEmpty();
            System.out.printf("[differential] credits on invoices: %d finalized invoices with credits applied, %d of them with something due%n",
                    scalar(database, "select count(*) from invoices where credited_micros > 0"),
                    scalar(database, "select count(*) from invoices where credited_micros > 0 and amount_due_micros > 0"));
            assertThat(scalar(database, "select count(*) from invoices where credited_micros > 0")).as("invoices with credits").isPositive();
            assertThat(scalar(database, "select count(*) from invoices where period = '2026-11'")).as("November invoices").isPositive();
            assertThat(scalar(database, "select count(*) from invoice_lines where adjusts_period is not null"))
                    .as("late events became adjustment lines").isPositive();
        }
    }

    /**
     * Replays every prepaid and hybrid tenant's balance from the log ({@link BalanceReplay}) and compares it with the newest
     * CREDIT state the projector published, until they agree (the projector emits at most once per interval) or 60 s pass;
     * returns the differences, each with the tenant's history.
     */
    private static List<String> awaitBalancesReplayed(EmbeddedKafka kafka, List<BillingHistories.History> histories) throws Exception {
        var log = new KafkaSource(kafka.bootstrapServers());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            var ledger = new LedgerHistory();
            log.read(Topics.LEDGER_EVENTS.name(), record -> ledger.apply(EventCodec.decode(record.value())), null);
            var replay = new BalanceReplay(ledger, null, null);
            log.read(Topics.USAGE.name(), replay::usage, null);
            Map<String, QuotaState> live = LiveBalances.latest(log);
            var differences = new ArrayList<String>();
            int burning = 0;
            for (BillingHistories.History history : histories) {
                CreditBurn burn = replay.burns().getOrDefault(history.tenantId(), CreditBurn.NONE);
                QuotaState state = live.get(history.tenantId());
                if (state == null) {
                    if (!burn.equals(CreditBurn.NONE) && (!burn.usedMicros().values().stream().allMatch(v -> v == 0) || burn.unfundedMicros() != 0)) {
                        differences.add("tenant " + history.tenantId() + ": the log burns " + burn.usedMicros() + " (unfunded " + burn.unfundedMicros()
                                + "), the projector published no balance\n" + history.describe());
                    }
                    continue;
                }
                burning++;
                LiveBalances.compare(burn, state).forEach(p -> differences.add(p + "\n" + history.describe()));
            }
            if (differences.isEmpty() || System.nanoTime() > deadline) {
                long unfunded = live.values().stream().filter(q -> q.unfundedMicros() != null && q.unfundedMicros() > 0).count();
                System.out.printf("[differential] prepaid balances: %d tenants burned credit (%d with unfunded usage), %d differ from the replay%n",
                        burning, unfunded, differences.size());
                assertThat(burning).as("tenants whose usage burned credit").isPositive();
                return differences.stream().limit(3).toList();
            }
            Thread.sleep(1_000);
        }
    }

    /**
     * Writes the histories onto the topics and waits for every write to be acknowledged: a lost state
     * record would make the projector bill without the tenant, and the comparison would blame the
     * pipeline for the test's own loss.
     */
    private static void produce(EmbeddedKafka kafka, BillingHistories.Platform platform, List<BillingHistories.History> histories)
            throws Exception {
        Instant published = BillingHistories.LEDGER_PUBLISHED;
        var sends = new ArrayList<Future<RecordMetadata>>();
        // Not idempotent (producerConfig): a retried record may arrive twice, which the pipeline and the audit must absorb anyway (every event has
        // its id), while an idempotent producer's sequence numbers have been seen to stall on this in-JVM broker. One request in
        // flight keeps each partition in send order.
        try (var producer = new KafkaProducer<>(producerConfig(kafka), new StringSerializer(), new ByteArraySerializer())) {
            int definitions = 0;
            for (BillingHistories.PlanDefinition plan : platform.plans()) {
                sends.add(ledger(producer, "ledger-" + plan.definition().planId() + "-" + definitions++, EventType.LEDGER_PLAN_DEFINED,
                        plan.definition(), plan.at()));
            }
            for (PriceListPublished list : platform.priceLists()) {
                sends.add(ledger(producer, "ledger-" + list.priceListId(), EventType.LEDGER_PRICELIST_PUBLISHED, list, published));
                sends.add(producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), list.priceListId(),
                        EventCodec.mapper().writeValueAsBytes(list))));
            }
            for (BillingHistories.History history : histories) {
                sends.add(ledger(producer, "ledger-" + history.tenantId() + "-created", EventType.LEDGER_TENANT_CREATED, history.created(),
                        published));
                int n = 0;
                for (PlanAssigned plan : history.plans()) {
                    sends.add(ledger(producer, "ledger-" + history.tenantId() + "-plan-" + n++, EventType.LEDGER_PLAN_ASSIGNED, plan, published));
                }
                for (EventData event : history.keysAndLimits()) {
                    sends.add(ledger(producer, "ledger-" + history.tenantId() + "-" + n++, ledgerType(event), event, published));
                }
                for (EventData event : history.credits()) {
                    sends.add(ledger(producer, "ledger-" + history.tenantId() + "-" + n++, ledgerType(event), event, published));
                }
                sends.add(producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), history.tenantId(),
                        EventCodec.encodeState(history.state(Instant.parse("2026-11-15T00:00:00Z"), platform.planModes())))));
            }
            awaitAll(sends);
            // All tenants' usage interleaved in the order the gateways would send it.
            List<BillingHistories.Sent> sent = histories.stream().flatMap(h -> h.usage().stream())
                    .sorted(Comparator.comparing(BillingHistories.Sent::sendAt)).toList();
            for (BillingHistories.Sent s : sent) {
                sends.add(producer.send(new ProducerRecord<>(Topics.USAGE.name(), s.event().tenantid(), EventCodec.encode(s.event()))));
            }
            awaitAll(sends);
        }
    }

    /** Publishes the late backfills as the ledger would: the events, the new tenant states, the price lists. Returns the plan count. */
    private static int publishLate(EmbeddedKafka kafka, BillingHistories.Platform platform, List<BillingHistories.History> histories)
            throws Exception {
        Instant published = BillingHistories.LATE_PUBLISHED;
        var sends = new ArrayList<Future<RecordMetadata>>();
        int plans = 0;
        try (var producer = new KafkaProducer<>(producerConfig(kafka), new StringSerializer(), new ByteArraySerializer())) {
            for (PriceListPublished list : platform.lateLists()) {
                sends.add(producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), list.priceListId(),
                        EventCodec.mapper().writeValueAsBytes(list))));
                sends.add(ledger(producer, "ledger-" + list.priceListId(), EventType.LEDGER_PRICELIST_PUBLISHED, list, published));
            }
            for (BillingHistories.History history : histories) {
                if (history.latePlans().isEmpty()) {
                    continue;
                }
                sends.add(producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), history.tenantId(),
                        EventCodec.encodeState(history.stateWithLatePlans(published, platform.planModes())))));
                int n = 0;
                for (PlanAssigned plan : history.latePlans()) {
                    sends.add(ledger(producer, "ledger-" + history.tenantId() + "-late-" + n++, EventType.LEDGER_PLAN_ASSIGNED, plan, published));
                    plans++;
                }
            }
            awaitAll(sends);
        }
        return plans;
    }

    /** Every billed event's price list. */
    /** The tenants of {@code eventIds} that were billed in a mode that burns credit. */
    private static Set<String> tenantsWithCreditOn(PostgresDatabase database, Set<String> eventIds) throws Exception {
        var tenants = new HashSet<String>();
        try (var connection = database.connect(); var statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("select event_id, tenant_id from billed_usage where credit_mode is not null")) {
            while (rs.next()) {
                if (eventIds.contains(rs.getString(1))) {
                    tenants.add(rs.getString(2));
                }
            }
        }
        return tenants;
    }

    /** A difference in the credit applied to a tenant's events, of a tenant whose burning usage a backfill re-priced. */
    private static boolean knownCreditDifference(String line, Set<String> repricedBurning) {
        Matcher m = TENANT_FINDING.matcher(line);
        return (line.contains("was billed with credit") || line.contains("more events with different credit")) && m.find()
                && repricedBurning.contains(m.group(1));
    }

    private static Map<String, String> prices(PostgresDatabase database) throws Exception {
        var prices = new HashMap<String, String>();
        try (var connection = database.connect(); var statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("select event_id, price_list_id from billed_usage")) {
            while (rs.next()) {
                prices.put(rs.getString(1), rs.getString(2));
            }
        }
        return prices;
    }

    /** The ledger event type whose payload {@code data} is (unique among ledger types). */
    private static EventType ledgerType(EventData data) {
        return Arrays.stream(EventType.values()).filter(t -> t.topic().equals(Topics.LEDGER_EVENTS) && t.dataClass() == data.getClass())
                .findFirst().orElseThrow();
    }

    private static Map<String, Object> producerConfig(EmbeddedKafka kafka) {
        return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis());
    }

    /** Every send acknowledged; the producer's own delivery timeout turns a lost record into an exception before this gives up. */
    private static void awaitAll(List<Future<RecordMetadata>> sends) throws Exception {
        long deadline = System.nanoTime() + SEND_TIMEOUT.plusSeconds(30).toNanos();
        for (Future<RecordMetadata> send : sends) {
            send.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS); // throws if the broker refused or lost the record
        }
        sends.clear();
    }

    private static Future<RecordMetadata> ledger(KafkaProducer<String, byte[]> producer, String id, EventType type, EventData data,
                                                 Instant at) {
        var event = CloudEvent.withId(id, type, "/ledger", at, data.tenantId(), null, data);
        return producer.send(new ProducerRecord<>(Topics.LEDGER_EVENTS.name(), data.tenantId(), EventCodec.encode(event)));
    }

    /** The audit's findings for {@code period}, with the history of every tenant it names. */
    private static String report(String period, String out, List<BillingHistories.History> histories) {
        var report = new StringBuilder("period " + period + ": the audit disagrees with the live invoices\n");
        out.lines().filter(line -> line.startsWith("MISMATCH") || line.startsWith("UNDECODABLE")).limit(20)
                .forEach(line -> report.append(line).append('\n'));
        var named = new ArrayList<String>();
        out.lines().filter(line -> line.startsWith("MISMATCH")).forEach(line -> {
            Matcher m = TENANT_FINDING.matcher(line);
            while (m.find()) {
                if (!named.contains(m.group(1))) {
                    named.add(m.group(1));
                }
            }
        });
        histories.stream().filter(h -> named.contains(h.tenantId())).limit(3)
                .forEach(h -> report.append("smallest failing history (").append(named.size()).append(" tenants named):\n").append(h.describe()));
        return report.toString();
    }

    private static long scalar(PostgresDatabase database, String sql) throws Exception {
        try (var connection = database.connect(); var statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
