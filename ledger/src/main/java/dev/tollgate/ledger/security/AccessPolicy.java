package dev.tollgate.ledger.security;

import dev.tollgate.service.security.Caller;
import dev.tollgate.service.security.Role;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.service.security.RoleRules;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static dev.tollgate.service.security.Role.AUDITOR;
import static dev.tollgate.service.security.Role.BILLING;
import static dev.tollgate.service.security.Role.PLATFORM_ADMIN;
import static dev.tollgate.service.security.Role.TENANT_ADMIN;

/**
 * Who may do what, in one table. Roles other than tenant-admin act on every tenant; a tenant-admin
 * acts only on its own tenant and gets 404 for anything of another tenant (it must not learn that
 * the resource exists); a role that may never do an action gets 403.
 */
public final class AccessPolicy {
    /** Every operation of the admin API. */
    public enum Action {
        CREATE_TENANT, LIST_TENANTS, READ_TENANT, SUSPEND_TENANT, SET_TENANT_LIMITS, READ_EVENTS, CONFIGURE_WEBHOOK,
        DEFINE_PLAN, READ_PRICING, PUBLISH_PRICE_LIST, PUBLISH_BACKFILL,
        ISSUE_KEY, LIST_KEYS, ROTATE_KEY, REVOKE_KEY, SET_KEY_LIMITS,
        GRANT_CREDIT, READ_CREDITS, SET_BILLING_MODE
    }

    private static final Map<Action, Set<Role>> ALLOWED = Map.ofEntries(
            Map.entry(Action.CREATE_TENANT, EnumSet.of(PLATFORM_ADMIN)),
            Map.entry(Action.LIST_TENANTS, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR)),
            Map.entry(Action.READ_TENANT, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR, TENANT_ADMIN)),
            Map.entry(Action.SUSPEND_TENANT, EnumSet.of(PLATFORM_ADMIN)),
            Map.entry(Action.SET_TENANT_LIMITS, EnumSet.of(PLATFORM_ADMIN)),
            Map.entry(Action.READ_EVENTS, EnumSet.of(PLATFORM_ADMIN, AUDITOR, TENANT_ADMIN)),
            Map.entry(Action.CONFIGURE_WEBHOOK, EnumSet.of(PLATFORM_ADMIN, TENANT_ADMIN)),
            Map.entry(Action.DEFINE_PLAN, EnumSet.of(PLATFORM_ADMIN)),
            Map.entry(Action.READ_PRICING, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR)),
            Map.entry(Action.PUBLISH_PRICE_LIST, EnumSet.of(PLATFORM_ADMIN)),
            Map.entry(Action.PUBLISH_BACKFILL, EnumSet.of(PLATFORM_ADMIN)),
            Map.entry(Action.ISSUE_KEY, EnumSet.of(PLATFORM_ADMIN, TENANT_ADMIN)),
            Map.entry(Action.LIST_KEYS, EnumSet.of(PLATFORM_ADMIN, AUDITOR, TENANT_ADMIN)),
            Map.entry(Action.ROTATE_KEY, EnumSet.of(PLATFORM_ADMIN, TENANT_ADMIN)),
            Map.entry(Action.REVOKE_KEY, EnumSet.of(PLATFORM_ADMIN, TENANT_ADMIN)),
            Map.entry(Action.SET_KEY_LIMITS, EnumSet.of(PLATFORM_ADMIN, TENANT_ADMIN)),
            // Granting and voiding credit is money: finance and operators only (ADR 0027).
            Map.entry(Action.GRANT_CREDIT, EnumSet.of(PLATFORM_ADMIN, BILLING)),
            Map.entry(Action.READ_CREDITS, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR, TENANT_ADMIN)),
            Map.entry(Action.SET_BILLING_MODE, EnumSet.of(PLATFORM_ADMIN, BILLING)));

    private AccessPolicy() {}

    /** Allows or throws: {@link LedgerException.Forbidden} (403) or {@link LedgerException.NotFound} (404). */
    public static void check(Caller caller, Action action, String tenantId) {
        switch (RoleRules.decide(caller, ALLOWED.get(action), tenantId)) {
            case ALLOW -> { }
            case NOT_FOUND -> throw new LedgerException.NotFound("not_found", "no such resource");
            case FORBIDDEN -> throw new LedgerException.Forbidden("forbidden", "your role may not " + action.name().toLowerCase().replace('_', ' '));
        }
    }

    /** For actions without a tenant (plans, price lists, tenant creation and listing). */
    public static void check(Caller caller, Action action) {
        check(caller, action, null);
    }
}
