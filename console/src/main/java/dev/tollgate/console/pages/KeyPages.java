package dev.tollgate.console.pages;

import dev.tollgate.console.api.AdminApi;
import dev.tollgate.console.api.ApiProblem;
import dev.tollgate.console.api.BillingApi;
import dev.tollgate.console.config.ConsoleProperties;
import dev.tollgate.console.usage.UsageSummary;
import dev.tollgate.console.usage.UsageWindow;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;
import org.springframework.web.util.UriUtils;

import jakarta.servlet.http.HttpServletResponse;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A tenant's API keys: list, issue (the secret shown once, in the answer to the form, never stored
 * or redirected through the session), rotate with a grace period, revoke. Each form carries an
 * idempotency key, so a resubmitted form changes nothing twice.
 */
@Controller
public class KeyPages {
    /** The scopes the admin API knows (KeyScopes), offered as checkboxes. */
    static final List<String> SCOPES = List.of("inference", "chat.completions", "completions", "embeddings", "responses", "messages", "rerank", "score",
            "audio.transcriptions", "audio.translations", "models.read");

    private final AdminApi admin;
    private final BillingApi billing;
    private final ConsoleProperties properties;
    private final Clock clock;

    public KeyPages(AdminApi admin, BillingApi billing, ConsoleProperties properties, Clock clock) {
        this.admin = admin;
        this.billing = billing;
        this.properties = properties;
        this.clock = clock;
    }

    @GetMapping("/tenants/{tenantId}/keys")
    public String keys(@PathVariable String tenantId, Model model) {
        Map<String, Object> tenant = admin.tenant(tenantId);
        model.addAttribute("tenant", tenant);
        model.addAttribute("lastUse", lastUse(tenantId, tenant));
        model.addAttribute("keys", admin.keys(tenantId));
        model.addAttribute("scopes", SCOPES);
        model.addAttribute("formId", UUID.randomUUID().toString());
        return "keys";
    }

    @PostMapping("/tenants/{tenantId}/keys")
    public String issue(@PathVariable String tenantId, @RequestParam String name, @RequestParam(required = false) List<String> scopes,
                        @RequestParam(defaultValue = "") String allowedModels, @RequestParam String formId, Model model,
                        HttpServletResponse response) {
        List<String> models = Arrays.stream(allowedModels.split("[,\\s]+")).filter(m -> !m.isBlank()).toList();
        Map<String, Object> issued = admin.issueKey(tenantId, name.strip(), scopes == null ? List.of() : scopes, models, formId);
        return secret(tenantId, "Key issued", issued, model, response);
    }

    @PostMapping("/tenants/{tenantId}/keys/{keyId}/rotate")
    public String rotate(@PathVariable String tenantId, @PathVariable String keyId, @RequestParam(defaultValue = "3600") long gracePeriodSeconds,
                         @RequestParam String formId, Model model, HttpServletResponse response) {
        Map<String, Object> rotated = admin.rotateKey(keyId, Math.max(0, gracePeriodSeconds), formId);
        return secret(tenantId, "Key rotated", rotated, model, response);
    }

    @PostMapping("/tenants/{tenantId}/keys/{keyId}/revoke")
    public String revoke(@PathVariable String tenantId, @PathVariable String keyId, @RequestParam(defaultValue = "revoked in the console") String reason,
                         @RequestParam String formId, RedirectAttributes redirect) {
        admin.revokeKey(keyId, reason.isBlank() ? "revoked in the console" : reason.strip(), formId);
        redirect.addFlashAttribute("notice", "Key " + keyId + " is revoked: the gateway refuses it from now on.");
        return "redirect:/tenants/" + UriUtils.encodePathSegment(tenantId, StandardCharsets.UTF_8) + "/keys";
    }

    /** Each key's last day with metered usage this month, from the billing API; empty (not shown) while it is away. */
    private Map<String, String> lastUse(String tenantId, Map<String, Object> tenant) {
        UsageWindow.Query month = UsageWindow.MONTH.query(clock.instant(), TenantPages.zone(tenant));
        try {
            return UsageSummary.lastBucketPerKey(UsageSummary.Bucket.of(billing.usage(tenantId, month.granularity(), month.from(), month.to())));
        } catch (ApiProblem problem) {
            if (problem.status() < 500) {
                throw problem;
            }
            return Map.of();
        }
    }

    /** The one page that ever shows a secret; it is not cached and not kept. */
    private String secret(String tenantId, String title, Map<String, Object> key, Model model, HttpServletResponse response) {
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        model.addAttribute("tenant", admin.tenant(tenantId));
        model.addAttribute("title", title);
        model.addAttribute("key", key);
        model.addAttribute("gatewayUrl", properties.gatewayUrl());
        return "key-secret";
    }
}
