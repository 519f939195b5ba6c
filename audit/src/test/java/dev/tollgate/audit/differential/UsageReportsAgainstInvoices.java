package dev.tollgate.audit.differential;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.testkit.auth.TestTokens;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The second half of the proof, through the billing API as a tenant sees it: for every tenant and
 * month, the usage report (live usage by the events' own time in the tenant's zone) equals the sum
 * of the invoice lines for the same events: the month's own lines plus the adjustment lines that
 * later invoices carry for it. Tokens must be equal exactly; amounts may differ only by rounding
 * (the report rounds each bucket once, the invoice each line once: half a micro-unit per line).
 */
final class UsageReportsAgainstInvoices {
    private final String base;
    private final String token;
    private final HttpClient http = HttpClient.newHttpClient();

    UsageReportsAgainstInvoices(int port, TestTokens tokens) {
        this.base = "http://127.0.0.1:" + port + "/billing/v1";
        this.token = tokens.token("differential-auditor", List.of("billing"), null);
    }

    /** Tokens and amount of one month, by the report or by the invoices. */
    record Month(long input, long cached, long output, long amountMicros, int lines) {
        Month plus(Month other) {
            return new Month(input + other.input, cached + other.cached, output + other.output, amountMicros + other.amountMicros,
                    lines + other.lines);
        }

        boolean sameTokens(Month other) {
            return input == other.input && cached == other.cached && output == other.output;
        }
    }

    /** The differences found for one tenant, empty when every month matches. */
    List<String> compare(String tenantId, String from, String to) throws IOException, InterruptedException {
        Map<String, Month> reported = reported(tenantId, from, to);
        Map<String, Month> invoiced = invoiced(tenantId);
        var problems = new ArrayList<String>();
        var months = new TreeMap<String, Boolean>();
        reported.keySet().forEach(m -> months.put(m, true));
        invoiced.keySet().forEach(m -> months.put(m, true));
        for (String month : months.keySet()) {
            Month report = reported.getOrDefault(month, new Month(0, 0, 0, 0, 0));
            Month invoice = invoiced.getOrDefault(month, new Month(0, 0, 0, 0, 0));
            if (!report.sameTokens(invoice)) {
                problems.add("tenant " + tenantId + " " + month + ": usage report tokens " + report + ", invoice lines " + invoice);
            }
            // Each side rounds once per bucket or line: at most half a micro-unit each.
            long bound = (invoice.lines() + report.lines() + 1) / 2;
            if (Math.abs(report.amountMicros() - invoice.amountMicros()) > bound) {
                problems.add("tenant " + tenantId + " " + month + ": usage report amount " + report.amountMicros() + " micros, invoice lines "
                        + invoice.amountMicros() + " (more than the rounding bound " + bound + ")");
            }
        }
        return problems;
    }

    private Map<String, Month> reported(String tenantId, String from, String to) throws IOException, InterruptedException {
        JsonNode report = get("/tenants/" + tenantId + "/usage?granularity=month&from=" + from + "&to=" + to);
        var months = new TreeMap<String, Month>();
        for (JsonNode bucket : report.path("buckets")) {
            months.merge(bucket.path("start").asText(), new Month(bucket.path("inputTokens").asLong(), bucket.path("cachedInputTokens").asLong(),
                    bucket.path("outputTokens").asLong(), bucket.path("amountMicros").asLong(), 1), Month::plus);
        }
        return months;
    }

    /** Invoice line sums keyed by the month whose events they bill: their own period, or the one they adjust. */
    private Map<String, Month> invoiced(String tenantId) throws IOException, InterruptedException {
        var months = new TreeMap<String, Month>();
        for (JsonNode summary : get("/tenants/" + tenantId + "/invoices")) {
            JsonNode invoice = summary.has("lines") && !summary.path("lines").isEmpty() ? summary
                    : get("/invoices/" + summary.path("invoiceId").asText());
            for (JsonNode line : invoice.path("lines")) {
                String month = line.hasNonNull("adjustsPeriod") ? line.path("adjustsPeriod").asText() : invoice.path("period").asText();
                long quantity = line.path("quantity").asLong();
                String kind = line.path("tokenKind").asText();
                months.merge(month, new Month(kind.equals("INPUT") ? quantity : 0, kind.equals("CACHED_INPUT") ? quantity : 0,
                        kind.equals("OUTPUT") ? quantity : 0, line.path("amountMicros").asLong(), 1), Month::plus);
            }
        }
        return months;
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return EventCodec.mapper().readTree(response.body());
    }
}
