package dev.tollgate.console.pages;

import dev.tollgate.console.api.AdminApi;
import dev.tollgate.console.api.BillingApi;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

/** Where a tenant's budget alerts go; saving issues a new signing secret, shown once; a test event checks the receiver. */
@Controller
public class WebhookPage {
    private final AdminApi admin;
    private final BillingApi billing;

    public WebhookPage(AdminApi admin, BillingApi billing) {
        this.admin = admin;
        this.billing = billing;
    }

    @PostMapping("/tenants/{tenantId}/webhook/test")
    public String test(@PathVariable String tenantId, Model model) {
        model.addAttribute("tenant", admin.tenant(tenantId));
        model.addAttribute("test", billing.testWebhook(tenantId));
        return "webhook";
    }

    @GetMapping("/tenants/{tenantId}/webhook")
    public String webhook(@PathVariable String tenantId, Model model) {
        model.addAttribute("tenant", admin.tenant(tenantId));
        return "webhook";
    }

    @PostMapping("/tenants/{tenantId}/webhook")
    public String configure(@PathVariable String tenantId, @RequestParam String url, Model model, HttpServletResponse response) {
        var configured = admin.configureWebhook(tenantId, url.strip());
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        model.addAttribute("tenant", admin.tenant(tenantId));
        model.addAttribute("configured", configured);
        return "webhook";
    }
}
