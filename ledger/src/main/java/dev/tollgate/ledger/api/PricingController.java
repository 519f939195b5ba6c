package dev.tollgate.ledger.api;

import dev.tollgate.ledger.pricing.PricingCommands;
import dev.tollgate.ledger.publish.ReadModel;
import dev.tollgate.ledger.security.AccessPolicy;
import dev.tollgate.ledger.security.AccessPolicy.Action;
import dev.tollgate.service.security.Caller;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.credit.BillingMode;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/** Plans and price lists: platform-wide; platform admins change them, platform admins, billing and auditors read them. */
@RestController
public class PricingController {
    private final CommandSender commands;
    private final ReadModel readModel;

    public PricingController(CommandSender commands, ReadModel readModel) {
        this.commands = commands;
        this.readModel = readModel;
    }

    @GetMapping("/admin/v1/plans")
    public List<ReadModel.PlanView> plans(@AuthenticationPrincipal Jwt jwt) {
        AccessPolicy.check(Caller.of(jwt), Action.READ_PRICING);
        return readModel.plans();
    }

    /** Every price list of one plan ({@code planId}) or of all, oldest effective time first; later ones are scheduled changes. */
    @GetMapping("/admin/v1/price-lists")
    public List<ReadModel.PriceListView> priceLists(@AuthenticationPrincipal Jwt jwt, @RequestParam(required = false) String planId) {
        AccessPolicy.check(Caller.of(jwt), Action.READ_PRICING);
        return readModel.priceLists(planId);
    }

    /**
     * {@code allowUnpricedUsage}: may tenants on the plan call models it has no price for (default no: the gateway refuses them);
     * {@code billingMode}: how its tenants pay unless one has a mode of its own (default POSTPAID; a change applies from now on).
     */
    public record PlanRequest(String name, Limits defaultLimits, Boolean allowUnpricedUsage, BillingMode billingMode) {}

    public record PlanResponse(String planId, String name, Limits defaultLimits, boolean allowUnpricedUsage, BillingMode billingMode) {}

    /** {@code priceListId} is generated when absent; {@code backfill} must be true for a past {@code effectiveFrom}. */
    public record PriceListRequest(String priceListId, String planId, String currency, Instant effectiveFrom,
                                   Boolean backfill, List<ModelPrice> prices) {}

    public record PriceListResponse(String priceListId, String planId, String currency, Instant effectiveFrom,
                                    boolean backfill, List<ModelPrice> prices) {}

    @PutMapping("/admin/v1/plans/{planId}")
    public PlanResponse definePlan(@AuthenticationPrincipal Jwt jwt, @PathVariable String planId, @RequestBody PlanRequest request) {
        Caller caller = Caller.of(jwt);
        AccessPolicy.check(caller, Action.DEFINE_PLAN);
        Limits limits = request.defaultLimits() == null ? Limits.NONE : request.defaultLimits();
        boolean allowUnpriced = Boolean.TRUE.equals(request.allowUnpricedUsage());
        BillingMode mode = request.billingMode() == null ? BillingMode.POSTPAID : request.billingMode();
        commands.send(caller, new PricingCommands.DefinePlan(planId, request.name(), limits, allowUnpriced, mode));
        return new PlanResponse(planId, request.name(), limits, allowUnpriced, mode);
    }

    @PostMapping("/admin/v1/price-lists")
    public ResponseEntity<PriceListResponse> publish(@AuthenticationPrincipal Jwt jwt, @RequestBody PriceListRequest request) {
        Caller caller = Caller.of(jwt);
        boolean backfill = Boolean.TRUE.equals(request.backfill());
        AccessPolicy.check(caller, backfill ? Action.PUBLISH_BACKFILL : Action.PUBLISH_PRICE_LIST);
        String id = request.priceListId() == null ? "pl-" + UUID.randomUUID() : request.priceListId();
        String currency = request.currency() == null ? null : request.currency().toUpperCase(Locale.ROOT);
        commands.send(caller, new PricingCommands.PublishPriceList(id, request.planId(), currency,
                request.effectiveFrom(), backfill, request.prices()));
        return ResponseEntity.created(URI.create("/admin/v1/price-lists/" + id))
                .body(new PriceListResponse(id, request.planId(), currency, request.effectiveFrom(), backfill, request.prices()));
    }
}
