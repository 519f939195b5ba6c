package dev.tollgate.audit;

import dev.tollgate.projector.BillingServiceApplication;
import dev.tollgate.projector.stripe.StripeSync;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import dev.tollgate.billing.InvoiceIds;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import dev.tollgate.testkit.stripe.FakeStripe;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The audit CLI against what the real billing service produced (projector, invoice writer, Stripe
 * sync to the fake Stripe): a clean replay reproduces every invoice exactly, online and from an
 * export; each kind of tampering is detected with a diagnostic naming tenant, line and event ids.
 */
class AuditIT {
    private static final Instant SEPT = Instant.parse("2026-09-10T12:00:00Z");
    private static EmbeddedKafka kafka;
    private static PostgresDatabase database;
    private static FakeStripe stripe;
    private static Path export;
    private static String acmeInvoice;
    private static String stripeInvoice;

    @BeforeAll
    static void produceBillAndSync() throws Exception {
        kafka = EmbeddedKafka.startEphemeral();
        database = PostgresDatabase.create("audit_it");
        stripe = FakeStripe.start();
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            var list = new PriceListPublished("pl-1", "pro", "USD", Instant.parse("2026-08-01T00:00:00Z"), true,
                    List.of(new ModelPrice("m", 3_000_000, 1_500_000, 15_000_000), new ModelPrice("n", 1_000_000, 500_000, 2_000_000)));
            ledger(producer, "pl", EventType.LEDGER_PRICELIST_PUBLISHED, list);
            producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), "pl-1", EventCodec.mapper().writeValueAsBytes(list))).get();
            for (String tenant : List.of("acme", "globex")) {
                ledger(producer, tenant + "-created", EventType.LEDGER_TENANT_CREATED, new TenantCreated(tenant, tenant, "UTC", "USD"));
                ledger(producer, tenant + "-plan", EventType.LEDGER_PLAN_ASSIGNED, new PlanAssigned(tenant, "pro", Instant.parse("2026-08-01T00:00:00Z")));
                producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), tenant, EventCodec.encodeState(new TenantState(tenant, tenant,
                        TenantState.Status.ACTIVE, "pro", "UTC", "USD", Limits.NONE, null, null, 1, SEPT)))).get();
                for (int i = 0; i < 40; i++) {
                    String model = i % 3 == 0 ? "n" : "m";
                    usage(producer, CloudEvent.withId(tenant + "-s" + i, EventType.USAGE_TOKENS_STREAMED, "/gw", SEPT.plusSeconds(i), "r" + i, null,
                            new TokensStreamed("r" + i, tenant, "k1", model, 1, 10 + i)));
                    usage(producer, CloudEvent.withId(tenant + "-c" + i, EventType.USAGE_REQUEST_COMPLETED, "/gw", SEPT.plusSeconds(i).plusMillis(300),
                            "r" + i, null, new RequestFinished("r" + i, tenant, "k1", model, Endpoint.CHAT_COMPLETIONS, "p/e",
                                    new TokenUsage(1_000 + i, 100, 30 + i), 10 + i, 50, 5L, null, null, null)));
                }
                usage(producer, CloudEvent.withId(tenant + "-oct", EventType.USAGE_TOKENS_STREAMED, "/gw", Instant.parse("2026-10-05T00:00:00Z"),
                        "r-oct", null, new TokensStreamed("r-oct", tenant, "k1", "m", 1, 5)));
            }
        }
        String[] args = {"--server.port=0", "--spring.datasource.url=" + database.jdbcUrl(), "--spring.datasource.username=" + database.user(),
                "--spring.datasource.password=" + database.password(), "--tollgate.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                "--tollgate.projector.application-id=audit-it", "--tollgate.projector.state-dir=" + Files.createTempDirectory("audit-it"),
                "--tollgate.projector.grace=PT1H", "--tollgate.invoice-writer.group-id=audit-it-writer",
                "--tollgate.jwt.hs256-secret=audit-it-secret-that-is-long-enough-for-hs256", "--tollgate.jwt.issuer=t", "--tollgate.jwt.audience=a",
                "--tollgate.stripe.api-key=sk_test_audit", "--tollgate.stripe.api-base=" + stripe.apiBase()};
        try (ConfigurableApplicationContext billing = BillingServiceApplication.builder().run(args)) {
            acmeInvoice = InvoiceIds.of("acme", "2026-09");
            await().atMost(Duration.ofSeconds(90)).until(() -> scalar("select count(*) from invoices where period = '2026-09'") == 2);
            billing.getBean(StripeSync.class).sync(acmeInvoice);
            stripeInvoice = stripe.invoices().keySet().iterator().next();
        }
        export = Files.createTempFile("audit-it", ".jsonl.gz");
        assertThat(cli("export", "--period", "2026-09", "--out", export.toString(), "--bootstrap-servers", kafka.bootstrapServers()).code())
                .isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        stripe.close();
        database.close();
        kafka.close();
        Files.deleteIfExists(export);
    }

    private static void ledger(KafkaProducer<String, byte[]> producer, String id, EventType type, EventData data) throws Exception {
        var event = CloudEvent.withId(id, type, "/ledger", Instant.parse("2026-08-01T00:00:00Z"), data.tenantId(), null, data);
        producer.send(new ProducerRecord<>(Topics.LEDGER_EVENTS.name(), data.tenantId(), EventCodec.encode(event))).get();
    }

    private static void usage(KafkaProducer<String, byte[]> producer, CloudEvent<?> event) throws Exception {
        producer.send(new ProducerRecord<>(Topics.USAGE.name(), event.tenantid(), EventCodec.encode(event))).get();
    }

    private static long scalar(String sql) throws Exception {
        try (var connection = database.connect(); var statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void execute(String sql) throws Exception {
        try (var connection = database.connect(); var statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static CliRun cli(String... args) {
        return CliRun.of(args);
    }

    private static List<String> sources(String... extra) {
        var args = new ArrayList<>(List.of("--database-url", database.jdbcUrl(), "--database-user", database.user(),
                "--database-password", database.password(), "--stripe-api-key", "sk_test_audit", "--stripe-api-base", stripe.apiBase(),
                "--grace", "PT1H", "--bootstrap-servers", kafka.bootstrapServers()));
        args.addAll(List.of(extra));
        return args;
    }

    private static CliRun replay(String... extra) {
        var args = new ArrayList<>(List.of("replay", "--period", "2026-09"));
        args.addAll(sources(extra));
        return cli(args.toArray(String[]::new));
    }

    /** A copy of the export with each record line passed through {@code edit} (null drops it). */
    private static Path tampered(UnaryOperator<String> edit) throws Exception {
        Path copy = Files.createTempFile("audit-tampered", ".jsonl.gz");
        try (var in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(export)), StandardCharsets.UTF_8));
             var out = new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(copy)), StandardCharsets.UTF_8))) {
            out.write(in.readLine());
            out.newLine();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String edited = edit.apply(line);
                if (edited != null) {
                    out.write(edited);
                    out.newLine();
                }
            }
        }
        return copy;
    }

    @Test
    void aCleanReplayReproducesEveryInvoiceAndStripeExactlyOnlineAndFromAnExport() {
        CliRun online = replay();
        assertThat(online.code()).as(online.out()).isZero();
        assertThat(online.out()).contains("acme", "globex", "OK: every invoice reproduced exactly");
        CliRun offline = replay("--from-file", export.toString(), "--format", "json");
        assertThat(offline.code()).as(offline.out()).isZero();
        assertThat(offline.out()).contains("\"ok\" : true", "\"stripeMinorUnits\"");
    }

    @Test
    void verifyInvoiceProvesEachLinesEventsByItsDigest() throws Exception {
        var args = new ArrayList<>(List.of("verify-invoice", acmeInvoice));
        args.addAll(sources());
        CliRun result = cli(args.toArray(String[]::new));
        assertThat(result.code()).as(result.out()).isZero();
        assertThat(result.out()).contains("verified over the log's event ids", "OK: the invoice covers exactly these events");
    }

    @Test
    void aMissingEventIsNamed() throws Exception {
        Path file = tampered(line -> line.contains("\\\"id\\\":\\\"acme-c7\\\"") ? null : line);
        CliRun result = replay("--from-file", file.toString());
        assertThat(result.code()).isEqualTo(1);
        assertThat(result.out()).contains("tenant acme", "event acme-c7", "was billed but is missing from the log");
    }

    @Test
    void aDuplicatedEventIdWithOtherContentIsNamed() throws Exception {
        Path file = tampered(line -> line.contains("\\\"id\\\":\\\"globex-s3\\\"")
                ? line + "\n" + line.replace("\\\"completionTokens\\\":13", "\\\"completionTokens\\\":9999").replace("\"o\":", "\"o\":9") : line);
        CliRun result = replay("--from-file", file.toString());
        assertThat(result.code()).isEqualTo(1);
        assertThat(result.out()).contains("event id globex-s3", "appears twice with different content");
    }

    @Test
    void anEventAlteredAfterBillingIsNamed() throws Exception {
        Path file = tampered(line -> line.contains("\\\"id\\\":\\\"acme-s5\\\"")
                ? line.replace("\\\"completionTokens\\\":15", "\\\"completionTokens\\\":1500") : line);
        CliRun result = replay("--from-file", file.toString());
        assertThat(result.code()).isEqualTo(1);
        assertThat(result.out()).contains("event acme-s5 differs from what was billed", "altered after billing");
    }

    @Test
    void anInvoiceRowEditedInPostgresIsNamedAndVerifyInvoiceFails() throws Exception {
        execute("update invoice_lines set amount_micros = amount_micros - 1 where invoice_id = '" + acmeInvoice + "' and line_no = 2");
        try {
            CliRun result = replay();
            assertThat(result.code()).isEqualTo(1);
            assertThat(result.out()).contains("invoice " + acmeInvoice + " line 2", "its stored lines sum to");
        } finally {
            execute("update invoice_lines set amount_micros = amount_micros + 1 where invoice_id = '" + acmeInvoice + "' and line_no = 2");
        }
        String digest;
        try (var connection = database.connect(); var statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("select event_digest from invoice_lines where invoice_id = '" + acmeInvoice + "' and line_no = 1")) {
            rs.next();
            digest = rs.getString(1);
        }
        execute("update invoice_lines set event_digest = 'x' || substr(event_digest, 2) where invoice_id = '" + acmeInvoice + "' and line_no = 1");
        try {
            var args = new ArrayList<>(List.of("verify-invoice", acmeInvoice));
            args.addAll(sources());
            CliRun result = cli(args.toArray(String[]::new));
            assertThat(result.code()).isEqualTo(1);
            assertThat(result.out()).contains("line 1", "DIFFERS", "the stored line itself was changed");
        } finally {
            execute("update invoice_lines set event_digest = '" + digest + "' where invoice_id = '" + acmeInvoice + "' and line_no = 1");
        }
    }

    @Test
    void aStripeAmountThatDiffersIsNamed() {
        long original = stripe.invoices().get(stripeInvoice).getLong("total");
        stripe.overrideTotal(stripeInvoice, original + 100);
        try {
            CliRun result = replay();
            assertThat(result.code()).isEqualTo(1);
            assertThat(result.out()).contains("Stripe invoice " + stripeInvoice, "totals " + (original + 100));
        } finally {
            stripe.overrideTotal(stripeInvoice, original);
        }
    }

    @Test
    void anUndecodableRecordFailsTheReplayUnlessTheAuditorAcceptsItAndThenTheReportSaysSo() throws Exception {
        String garbageLedger = "{\"t\":\"ledger.events.v1\",\"p\":0,\"o\":900001,\"k\":\"_platform\",\"v\":\"{\\\"type\\\":\\\"dev.tollgate.ledger.pricelist.published.v1\\\"}\"}";
        String garbageUsage = "{\"t\":\"usage.v1\",\"p\":0,\"o\":900002,\"k\":\"acme\",\"v\":\"not json\"}";
        boolean[] added = {false};
        Path file = tampered(line -> {
            if (!added[0] && line.contains("\"t\":\"ledger.events.v1\"")) {
                added[0] = true;
                return line + "\n" + garbageLedger + "\n" + garbageUsage;
            }
            return line;
        });

        CliRun strict = replay("--from-file", file.toString());
        assertThat(strict.code()).as(strict.out()).isEqualTo(1);
        assertThat(strict.out()).contains("1 malformed", "1 ledger records undecodable", "UNDECODABLE ledger record ledger.events.v1-0@900001",
                "UNDECODABLE usage record usage.v1-0@900002", "NOT PROVEN: undecodable records").doesNotContain("MISMATCHES FOUND");

        CliRun accepted = replay("--from-file", file.toString(), "--accept-undecodable");
        assertThat(accepted.code()).as(accepted.out()).isZero();
        assertThat(accepted.out()).contains("ACCEPTED ledger record ledger.events.v1-0@900001", "--accept-undecodable",
                "OK: every invoice reproduced exactly");
    }
}
