package dev.tollgate.console.pages;

import dev.tollgate.console.api.AdminApi;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Operators' pages: every tenant with search, and a tenant's control-plane history. */
@Controller
public class OperatorPages {
    /** The admin API's largest page; the list searches within it. */
    static final int TENANTS_PAGE = 1000;
    static final int EVENTS_PAGE = 50;

    private final AdminApi admin;

    public OperatorPages(AdminApi admin) {
        this.admin = admin;
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
