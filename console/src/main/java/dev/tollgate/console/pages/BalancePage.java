package dev.tollgate.console.pages;

import dev.tollgate.console.api.AdminApi;
import dev.tollgate.console.api.ApiProblem;
import dev.tollgate.console.api.BillingApi;
import dev.tollgate.console.money.Money;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import java.util.OptionalLong;

/**
 * A tenant's prepaid balance (ADR 0027): its mode, what is left, every grant with what usage burned
 * of it; and buying credit, which opens Stripe's checkout (the credit arrives when Stripe confirms
 * the payment, not when the form is sent).
 */
@Controller
public class BalancePage {
    private final AdminApi admin;
    private final BillingApi billing;

    public BalancePage(AdminApi admin, BillingApi billing) {
        this.admin = admin;
        this.billing = billing;
    }

    @GetMapping("/tenants/{tenantId}/balance")
    public String balance(@PathVariable String tenantId, Model model) {
        model.addAttribute("tenant", admin.tenant(tenantId));
        model.addAttribute("balance", billing.balance(tenantId));
        return "balance";
    }

    @PostMapping("/tenants/{tenantId}/balance/purchase")
    public String buy(@PathVariable String tenantId, @RequestParam String amount, Model model, HttpServletRequest request) {
        model.addAttribute("tenant", admin.tenant(tenantId));
        OptionalLong micros = Money.parse(amount);
        if (micros.isEmpty()) {
            model.addAttribute("purchaseError", "Enter an amount such as 25 or 12.50.");
        } else {
            String back = ServletUriComponentsBuilder.fromContextPath(request).path("/tenants/{t}/balance").buildAndExpand(tenantId).toUriString();
            try {
                model.addAttribute("checkout", billing.buyCredit(tenantId, micros.getAsLong(), back));
            } catch (ApiProblem problem) {
                if (problem.status() >= 500 || problem.status() == 401 || problem.status() == 403) {
                    throw problem;
                }
                model.addAttribute("purchaseError", problem.detail());
            }
        }
        model.addAttribute("balance", billing.balance(tenantId));
        return "balance";
    }
}
