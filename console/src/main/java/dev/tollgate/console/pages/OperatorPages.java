package dev.tollgate.console.pages;

import dev.tollgate.console.api.AdminApi;
import dev.tollgate.console.api.BillingApi;
import dev.tollgate.console.pricing.PriceListStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;

import java.time.Clock;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Operators' pages: every tenant with search, a tenant's control-plane history, plans and price lists with
 * what is in force and what is scheduled, every tenant's invoice of a period, and the dead letters.
 */
@Controller
public class OperatorPages {
    /** The admin API's largest page; the list searches within it. */
    static final int TENANTS_PAGE = 1000;
    static final int EVENTS_PAGE = 50;

    static final int INVOICES_PAGE = 100;

    private final AdminApi admin;
    private final BillingApi billing;
    private final Clock clock;

    public OperatorPages(AdminApi admin, BillingApi billing, Clock clock) {
        this.admin = admin;
        this.billing = billing;
        this.clock = clock;
    }

    @GetMapping("/operator/plans")
    public String plans(Model model) {
        model.addAttribute("plans", admin.plans());
        model.addAttribute("priceLists", PriceListStatus.at(admin.priceLists(), clock.instant()));
        return "plans";
    }

    /** Every tenant's invoice of a month (default: this month in UTC), with each one's Stripe state. */
    @GetMapping("/operator/invoices")
    public String invoices(@RequestParam(required = false) String period, @RequestParam(defaultValue = "0") int offset, Model model) {
        String month = period == null || period.isBlank() ? YearMonth.now(clock.withZone(ZoneOffset.UTC)).toString() : period.strip();
        List<Map<String, Object>> page = billing.invoicesOfPeriod(month, INVOICES_PAGE, Math.max(0, offset));
        model.addAttribute("period", month);
        model.addAttribute("invoices", page);
        model.addAttribute("more", page.size() == INVOICES_PAGE);
        model.addAttribute("nextOffset", offset + INVOICES_PAGE);
        return "all-invoices";
    }

    @GetMapping("/operator/dead-letters")
    public String deadLetters(Model model) {
        model.addAttribute("letters", billing.deadLetters());
        return "dead-letters";
    }

    @GetMapping("/operator/tenants")
    public String tenants(@RequestParam(defaultValue = "") String q, @RequestParam(defaultValue = "0") int offset, Model model) {
        List<Map<String, Object>> page = admin.tenants(TENANTS_PAGE, Math.max(0, offset));
        String needle = q.strip().toLowerCase(Locale.ROOT);
        List<Map<String, Object>> shown = needle.isEmpty() ? page : page.stream().filter(t -> matches(t, needle)).toList();
        model.addAttribute("tenants", shown);
        model.addAttribute("q", q);
        model.addAttribute("offset", offset);
        model.addAttribute("more", page.size() == TENANTS_PAGE);
        model.addAttribute("nextOffset", offset + TENANTS_PAGE);
        return "tenants";
    }

    private static boolean matches(Map<String, Object> tenant, String needle) {
        return String.valueOf(tenant.get("tenantId")).toLowerCase(Locale.ROOT).contains(needle)
                || String.valueOf(tenant.get("name")).toLowerCase(Locale.ROOT).contains(needle)
                || String.valueOf(tenant.get("status")).toLowerCase(Locale.ROOT).equals(needle);
    }

    @GetMapping("/tenants/{tenantId}/events")
    public String events(@PathVariable String tenantId, @RequestParam(defaultValue = "0") long from, Model model) {
        model.addAttribute("tenant", admin.tenant(tenantId));
        model.addAttribute("history", admin.events(tenantId, Math.max(0, from), EVENTS_PAGE));
        return "events";
    }
}
