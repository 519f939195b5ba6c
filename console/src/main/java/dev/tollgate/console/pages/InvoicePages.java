package dev.tollgate.console.pages;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.console.api.AdminApi;
import dev.tollgate.console.api.BillingApi;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;
import org.springframework.web.util.UriUtils;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** A tenant's invoices, one invoice with its lines and event digests, its download, and Stripe re-sync. */
@Controller
public class InvoicePages {
    private final AdminApi admin;
    private final BillingApi billing;
    private final ObjectMapper mapper;

    public InvoicePages(AdminApi admin, BillingApi billing, ObjectMapper mapper) {
        this.admin = admin;
        this.billing = billing;
        this.mapper = mapper;
    }

    @GetMapping("/tenants/{tenantId}/invoices")
    public String invoices(@PathVariable String tenantId, Model model) {
        model.addAttribute("tenant", admin.tenant(tenantId));
        model.addAttribute("invoices", billing.invoices(tenantId));
        return "invoices";
    }

    @GetMapping("/invoices/{invoiceId}")
    public String invoice(@PathVariable String invoiceId, Model model) {
        Map<String, Object> invoice = billing.invoice(invoiceId);
        model.addAttribute("invoice", invoice);
        model.addAttribute("tenant", Map.of("tenantId", invoice.get("tenantId")));
        return "invoice";
    }

    /** The invoice exactly as the billing API gives it, as a file. */
    @GetMapping("/invoices/{invoiceId}.json")
    public ResponseEntity<byte[]> download(@PathVariable String invoiceId) throws JsonProcessingException {
        Map<String, Object> invoice = billing.invoice(invoiceId);
        String file = "invoice-" + invoiceId.replaceAll("[^A-Za-z0-9_-]", "_") + ".json";
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment().filename(file, StandardCharsets.UTF_8).build().toString())
                .contentType(MediaType.APPLICATION_JSON)
                .body(mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(invoice));
    }

    @PostMapping("/invoices/{invoiceId}/sync-stripe")
    public String syncStripe(@PathVariable String invoiceId, RedirectAttributes redirect) {
        Map<String, Object> invoice = billing.syncStripe(invoiceId);
        Object stripe = invoice.get("stripe") instanceof Map<?, ?> s ? s.get("status") : null;
        redirect.addFlashAttribute("notice", "Sent to Stripe" + (stripe == null ? "." : ": " + stripe + "."));
        return "redirect:/invoices/" + UriUtils.encodePathSegment(invoiceId, StandardCharsets.UTF_8);
    }
}
