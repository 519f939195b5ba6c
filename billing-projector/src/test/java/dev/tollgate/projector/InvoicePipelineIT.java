package dev.tollgate.projector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.projector.support.BillingInstance;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.EmbeddedKafka;
import dev.tollgate.testkit.postgres.PostgresDatabase;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static dev.tollgate.projector.support.UsageEvents.completed;
import static dev.tollgate.projector.support.UsageEvents.json;
import static dev.tollgate.projector.support.UsageEvents.streamed;
import static dev.tollgate.projector.support.UsageEvents.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * 100,000 generated usage events over 20 tenants (four billing zones, a price change mid-month, 3 %
 * of the events delivered twice, late events after the month closed) through the projector with
 * exactly-once, which is killed with SIGKILL mid-run (a separate JVM) and replaced by a new one on
 * an empty state directory. Every finalized invoice must equal an independent computation done here
 * with plain BigInteger arithmetic, every event must be billed exactly once, and the late events
 * must show as adjustment lines on the next month's draft.
 */
class InvoicePipelineIT {
    private static final int EVENTS = 100_000;
    private static final int TENANTS = 20;
    private static final String[] ZONES = {"UTC", "America/New_York", "Asia/Tokyo", "Europe/Berlin"};
    private static final String[] MODELS = {"m1", "m2"};
    private static final Instant PRICE_CHANGE = Instant.parse("2026-09-15T00:00:00Z");
    /** Per million tokens: input, cached input, output; per model, before and after the change. */
    private static final Map<String, long[]> BEFORE = Map.of("m1", new long[]{1_000_000, 250_000, 3_000_000},
            "m2", new long[]{2_500_000, 1_250_000, 10_000_000});
    private static final Map<String, long[]> AFTER = Map.of("m1", new long[]{900_000, 200_000, 2_700_000},
            "m2", new long[]{3_000_000, 1_500_000, 12_000_000});
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path temp;

    /** Records written to usage.v1 (3 % of the events twice). */
    private long producedRecords;

    /** Expected tokens per line: tenant -> "adjusts|model|kind|priceList" -> tokens (adjusts "" for own usage). */
    private final Map<String, Map<String, Long>> expected = new HashMap<>();
    private final Map<String, Map<String, Long>> expectedOctoberAdjustments = new HashMap<>();

    @Test
    void invoicesEqualAnIndependentComputationAfterTheProjectorIsKilledMidRun() throws Exception {
        try (var kafka = EmbeddedKafka.startEphemeral(); var database = PostgresDatabase.create("invoice_pipeline_it");
             var billing = BillingInstance.builder(kafka.bootstrapServers(), database, "pipeline-it", temp.resolve("unused"))
                     .set("tollgate.projector.enabled", false).start()) {
            long distinct = produce(kafka.bootstrapServers());

            long started = System.nanoTime();
            Process first = projector(kafka.bootstrapServers(), temp.resolve("state-1"));
            Process second;
            try {
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).until(() -> billedRows(database) >= distinct / 3);
                long atKill = billedRows(database);
                first.destroyForcibly().waitFor();
                System.out.printf("projector killed (SIGKILL) after %d of %d events were billed%n", atKill, distinct);
                second = projector(kafka.bootstrapServers(), temp.resolve("state-2"));
            } finally {
                first.destroyForcibly();
            }
            try {
                await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
                        .until(() -> finalizedInvoices(database) == TENANTS && billedRows(database) == distinct);
                System.out.printf("all %d events billed and %d September invoices finalized %.1f s after the first projector started%n",
                        distinct, TENANTS, (System.nanoTime() - started) / 1e9);
            } finally {
                second.destroy();
                second.waitFor();
            }

            assertThat(billedRows(database)).isEqualTo(distinct);
            for (int t = 0; t < TENANTS; t++) {
                String tenant = tenantId(t);
                JsonNode invoices = MAPPER.readTree(billing.call("GET", "/billing/v1/tenants/" + tenant + "/invoices",
                        BillingInstance.TOKENS.token("auditor", List.of("auditor"), null)).body());
                JsonNode september = null;
                JsonNode october = null;
                for (JsonNode invoice : invoices) {
                    if (invoice.path("period").asText().equals("2026-09")) {
                        september = invoice;
                    } else if (invoice.path("period").asText().equals("2026-10")) {
                        october = invoice;
                    }
                }
                assertThat(september).as(tenant).isNotNull();
                assertThat(september.path("status").asText()).isEqualTo("FINALIZED");
                JsonNode detail = invoice(billing, september.path("invoiceId").asText());
                assertThat(lines(detail)).as("September lines of " + tenant).isEqualTo(expected.get(tenant));
                assertThat(detail.path("totalMicros").asLong()).as("September total of " + tenant).isEqualTo(total(expected.get(tenant)));

                assertThat(october.path("status").asText()).isEqualTo("DRAFT");
                Map<String, Long> adjustments = new TreeMap<>(lines(invoice(billing, october.path("invoiceId").asText())));
                adjustments.keySet().removeIf(key -> !key.startsWith("2026-09|"));
                assertThat(adjustments).as("October adjustments of " + tenant).isEqualTo(expectedOctoberAdjustments.get(tenant));
            }
            System.out.printf("[fault] projector killed (SIGKILL) mid-window and replaced on an empty state directory | usage events "
                            + "produced %d (%d records, %d delivered twice), billed %d, lost %d, duplicated 0 (every invoice equals an "
                            + "independent computation)%n", distinct, producedRecords, producedRecords - distinct, billedRows(database),
                    distinct - billedRows(database));
        }
    }

    private static String tenantId(int t) {
        return String.format("tenant-%02d", t);
    }

    /** Produces everything; returns the number of distinct event ids. */
    private long produce(String bootstrap) throws Exception {
        var random = new Random(20261127);
        var events = new ArrayList<CloudEvent<?>>();
        for (int t = 0; t < TENANTS; t++) {
            expected.put(tenantId(t), new TreeMap<>());
            expectedOctoberAdjustments.put(tenantId(t), new TreeMap<>());
        }
        Instant monthStart = Instant.parse("2026-09-02T00:00:00Z");
        long monthSeconds = Duration.ofDays(26).toSeconds();
        for (int i = 0; i < EVENTS; i++) {
            String tenant = tenantId(i % TENANTS);
            String model = MODELS[random.nextInt(MODELS.length)];
            Instant time = monthStart.plusSeconds(random.nextLong(monthSeconds)).plusMillis(random.nextInt(1000));
            CloudEvent<?> event;
            if (random.nextBoolean()) {
                long tokens = 1 + random.nextInt(64);
                event = streamed("s-" + i, tenant, "k-" + (i % 3), model, time, tokens);
                count(expected.get(tenant), "", model, time, 0, 0, tokens);
            } else {
                long prompt = 1 + random.nextInt(4000);
                long cached = random.nextInt((int) (prompt / 4) + 1);
                long completion = random.nextInt(500);
                event = completed("c-" + i, tenant, "k-" + (i % 3), model, time, prompt, cached, completion, 0);
                count(expected.get(tenant), "", model, time, prompt - cached, cached, completion);
            }
            events.add(event);
            if (random.nextInt(100) < 3) {
                events.add(event); // delivered twice
            }
        }
        for (int t = 0; t < TENANTS; t++) { // October closes September in every zone (the grace is two hours)
            events.add(completed("close-" + t, tenantId(t), "k-0", "m1", Instant.parse("2026-10-03T12:00:00Z"), 10, 0, 1, 0));
        }
        for (int t = 0; t < TENANTS; t++) { // late: September usage after the close
            Instant time = Instant.parse("2026-09-20T10:00:00Z").plusSeconds(t);
            events.add(completed("late-" + t, tenantId(t), "k-1", "m2", time, 1_000 + t, 100, 50 + t, 0));
            count(expectedOctoberAdjustments.get(tenantId(t)), "2026-09", "m2", time, 900 + t, 100, 50 + t);
        }
        producedRecords = events.size();
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, 10, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024), new StringSerializer(),
                new ByteArraySerializer())) {
            for (int t = 0; t < TENANTS; t++) {
                producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), tenantId(t), tenant(tenantId(t), "pro", ZONES[t % ZONES.length])));
            }
            for (var list : List.of(priceList("pl-before", Instant.parse("2026-08-01T00:00:00Z"), BEFORE),
                    priceList("pl-after", PRICE_CHANGE, AFTER))) {
                producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), list.priceListId(), json(list)));
            }
            producer.flush();
            for (CloudEvent<?> event : events) {
                producer.send(new ProducerRecord<>(Topics.USAGE.name(), event.tenantid(), EventCodec.encode(event)));
            }
        }
        return EVENTS + 2L * TENANTS;
    }

    private static PriceListPublished priceList(String id, Instant from, Map<String, long[]> rates) {
        var prices = new ArrayList<ModelPrice>();
        rates.forEach((model, r) -> prices.add(new ModelPrice(model, r[0], r[1], r[2])));
        prices.sort(Comparator.comparing(ModelPrice::model));
        return new PriceListPublished(id, "pro", "USD", from, true, prices);
    }

    private static void count(Map<String, Long> lines, String adjusts, String model, Instant time, long uncached, long cached,
                              long completion) {
        String list = time.isBefore(PRICE_CHANGE) ? "pl-before" : "pl-after";
        long[] tokens = {uncached, cached, completion};
        String[] kinds = {"INPUT", "CACHED_INPUT", "OUTPUT"};
        for (int k = 0; k < 3; k++) {
            if (tokens[k] > 0) {
                lines.merge(adjusts + "|" + model + "|" + kinds[k] + "|" + list, tokens[k], Long::sum);
            }
        }
    }

    /** Each line's tokens x its rate / 1e6, rounded half-even, summed: written out independently of billing-core. */
    private static long total(Map<String, Long> lines) {
        long total = 0;
        for (var entry : lines.entrySet()) {
            String[] key = entry.getKey().split("\\|");
            long[] rates = (key[3].equals("pl-before") ? BEFORE : AFTER).get(key[1]);
            long rate = rates[switch (key[2]) {
                case "INPUT" -> 0;
                case "CACHED_INPUT" -> 1;
                default -> 2;
            }];
            total += new BigDecimal(BigInteger.valueOf(entry.getValue()).multiply(BigInteger.valueOf(rate)))
                    .divide(BigDecimal.valueOf(1_000_000), 0, RoundingMode.HALF_EVEN).longValueExact();
        }
        return total;
    }

    private static Map<String, Long> lines(JsonNode invoice) {
        var lines = new TreeMap<String, Long>();
        invoice.path("lines").forEach(line -> lines.put((line.path("adjustsPeriod").isMissingNode() ? "" : line.path("adjustsPeriod").asText())
                + "|" + line.path("model").asText() + "|" + line.path("tokenKind").asText() + "|" + line.path("priceListId").asText(),
                line.path("quantity").asLong()));
        return lines;
    }

    private static JsonNode invoice(BillingInstance billing, String id) throws Exception {
        return MAPPER.readTree(billing.call("GET", "/billing/v1/invoices/" + id, BillingInstance.TOKENS.token("auditor",
                List.of("auditor"), null)).body());
    }

    private static long billedRows(PostgresDatabase database) throws Exception {
        return scalar(database, "select count(*) from billed_usage");
    }

    private static long finalizedInvoices(PostgresDatabase database) throws Exception {
        return scalar(database, "select count(*) from invoices where period = '2026-09'");
    }

    private static long scalar(PostgresDatabase database, String sql) throws Exception {
        try (var connection = database.connect(); var statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Process projector(String bootstrap, Path stateDir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = List.of(java, "-Xmx512m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ProjectorApplication.class.getName());
        var builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(stateDir.resolveSibling(stateDir.getFileName() + ".log").toFile());
        builder.environment().put("TOLLGATE_KAFKA_BOOTSTRAP", bootstrap);
        builder.environment().put("TOLLGATE_PROJECTOR_APP_ID", "pipeline-it");
        builder.environment().put("TOLLGATE_PROJECTOR_STATE_DIR", stateDir.toString());
        builder.environment().put("TOLLGATE_PROJECTOR_SESSION_TIMEOUT_MS", "6000");
        return builder.start();
    }
}
