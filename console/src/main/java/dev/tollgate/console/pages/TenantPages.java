package dev.tollgate.console.pages;

import dev.tollgate.console.api.AdminApi;
import dev.tollgate.console.api.ApiProblem;
import dev.tollgate.console.api.BillingApi;
import dev.tollgate.console.money.Money;
import dev.tollgate.console.usage.BarChart;
import dev.tollgate.console.usage.UsageCsv;
import dev.tollgate.console.usage.UsageSummary;
import dev.tollgate.console.usage.UsageWindow;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/** A tenant's overview (today's usage, what is left of its limits) and its usage pages with chart, table and CSV. */
@Controller
public class TenantPages {
    private final AdminApi admin;
    private final BillingApi billing;
    private final Clock clock;

    public TenantPages(AdminApi admin, BillingApi billing, Clock clock) {
        this.admin = admin;
        this.billing = billing;
        this.clock = clock;
    }

    /** What left of a limit the page shows. */
    public record Allowance(String name, String limit, String used, String left, int percentUsed) {}

    @GetMapping("/tenants/{tenantId}")
    public String overview(@PathVariable String tenantId, Model model) {
        Map<String, Object> tenant = admin.tenant(tenantId);
        ZoneId zone = zone(tenant);
        Instant now = clock.instant();
        UsageSummary today;
        UsageSummary month;
        try {
            today = summary(tenantId, UsageWindow.TODAY, now, zone);
            month = summary(tenantId, UsageWindow.MONTH, now, zone);
        } catch (ApiProblem problem) {
            if (problem.status() < 500) {
                throw problem;
            }
            // The billing service is starting or away: the tenant's page still shows what the ledger knows.
            today = UsageSummary.of(List.of(), UsageWindow.TODAY, now, zone);
            month = UsageSummary.of(List.of(), UsageWindow.MONTH, now, zone);
            model.addAttribute("usageProblem", "Usage is not available right now. " + problem.sentence());
        }
        String currency = (String) tenant.get("currency");
        model.addAttribute("tenant", tenant);
        model.addAttribute("today", today);
        model.addAttribute("month", month);
        model.addAttribute("tokensChart", tokensChart(today));
        model.addAttribute("costChart", costChart(today, currency));
        model.addAttribute("allowances", allowances(tenant, today, month, currency));
        return "overview";
    }

    @GetMapping("/tenants/{tenantId}/usage")
    public String usage(@PathVariable String tenantId, @RequestParam(defaultValue = "today") String window,
                        @RequestParam(defaultValue = "model") String by, Model model) {
        Map<String, Object> tenant = admin.tenant(tenantId);
        UsageWindow w = UsageWindow.parse(window);
        UsageSummary summary = summary(tenantId, w, clock.instant(), zone(tenant));
        String currency = (String) tenant.get("currency");
        model.addAttribute("tenant", tenant);
        model.addAttribute("window", w);
        model.addAttribute("windows", UsageWindow.values());
        model.addAttribute("by", by.equals("key") ? "key" : "model");
        model.addAttribute("rows", by.equals("key") ? summary.byKey() : summary.byModel());
        model.addAttribute("summary", summary);
        model.addAttribute("tokensChart", tokensChart(summary));
        model.addAttribute("costChart", costChart(summary, currency));
        return "usage";
    }

    @GetMapping("/tenants/{tenantId}/usage.csv")
    public ResponseEntity<String> usageCsv(@PathVariable String tenantId, @RequestParam(defaultValue = "today") String window) {
        Map<String, Object> tenant = admin.tenant(tenantId);
        UsageWindow w = UsageWindow.parse(window);
        UsageWindow.Query query = w.query(clock.instant(), zone(tenant));
        Map<String, Object> report = billing.usage(tenantId, query.granularity(), query.from(), query.to());
        String file = "usage-" + tenantId.replaceAll("[^A-Za-z0-9_-]", "_") + "-" + w.name().toLowerCase() + ".csv";
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment().filename(file, StandardCharsets.UTF_8).build().toString())
                .contentType(new MediaType("text", "csv", StandardCharsets.UTF_8))
                .body(UsageCsv.of(UsageSummary.Bucket.of(report)));
    }

    private UsageSummary summary(String tenantId, UsageWindow window, Instant now, ZoneId zone) {
        UsageWindow.Query query = window.query(now, zone);
        Map<String, Object> report = billing.usage(tenantId, query.granularity(), query.from(), query.to());
        return UsageSummary.of(UsageSummary.Bucket.of(report), window, now, zone);
    }

    static ZoneId zone(Map<String, Object> tenant) {
        Object zone = tenant.get("billingTimeZone");
        return zone instanceof String z ? ZoneId.of(z) : ZoneId.of("UTC");
    }

    private static BarChart tokensChart(UsageSummary summary) {
        return BarChart.of(summary.points(), UsageSummary.Point::tokens, UsageSummary.Point::label, v -> String.format("%,d tokens", v));
    }

    private static BarChart costChart(UsageSummary summary, String currency) {
        return BarChart.of(summary.points(), UsageSummary.Point::amountMicros, UsageSummary.Point::label, v -> Money.format(v, currency));
    }

    @SuppressWarnings("unchecked")
    private static List<Allowance> allowances(Map<String, Object> tenant, UsageSummary today, UsageSummary month, String currency) {
        Map<String, Object> limits = tenant.get("limits") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        var out = new ArrayList<Allowance>();
        if (limits.get("tokensPerDay") instanceof Number perDay) {
            long used = today.total().totalTokens();
            out.add(allowance("Tokens today", perDay.longValue(), used, v -> String.format("%,d", v)));
        }
        if (limits.get("spendPerPeriodMicros") instanceof Number spend) {
            long used = month.total().amountMicros();
            String mode = limits.get("spendLimitMode") == null ? "" : " (" + String.valueOf(limits.get("spendLimitMode")).toLowerCase() + ")";
            out.add(allowance("Spend this period" + mode, spend.longValue(), used, v -> Money.format(v, currency)));
        }
        return out;
    }

    private static Allowance allowance(String name, long limit, long used, LongFunction<String> format) {
        int percent = limit <= 0 ? 100 : (int) Math.min(100, used * 100 / limit);
        return new Allowance(name, format.apply(limit), format.apply(used), format.apply(Math.max(0, limit - used)), percent);
    }
}
