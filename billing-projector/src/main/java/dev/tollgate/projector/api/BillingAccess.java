package dev.tollgate.projector.api;

import dev.tollgate.service.security.Caller;
import dev.tollgate.service.security.Role;
import dev.tollgate.service.security.RoleRules;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static dev.tollgate.service.security.Role.AUDITOR;
import static dev.tollgate.service.security.Role.BILLING;
import static dev.tollgate.service.security.Role.PLATFORM_ADMIN;
import static dev.tollgate.service.security.Role.TENANT_ADMIN;

/**
 * Who may do what on the billing API, in one table, with the admin API's rules: a tenant-admin acts
 * only on its own tenant and gets 404 for anything of another (it must not learn that it exists);
 * a role that may never do an action gets 403.
 */
public final class BillingAccess {
    public enum Action { READ_USAGE, READ_BALANCE, BUY_CREDIT, CONFIGURE_AUTO_TOP_UP, READ_INVOICES, LIST_ALL_INVOICES, SYNC_STRIPE, TEST_WEBHOOK, READ_DEAD_LETTERS }

    private static final Map<Action, Set<Role>> ALLOWED = Map.of(
            Action.READ_USAGE, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR, TENANT_ADMIN),
            Action.READ_BALANCE, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR, TENANT_ADMIN),
            // Starting a payment grants nothing: only Stripe's confirmation does (ADR 0027).
            Action.BUY_CREDIT, EnumSet.of(PLATFORM_ADMIN, BILLING, TENANT_ADMIN),
            Action.CONFIGURE_AUTO_TOP_UP, EnumSet.of(PLATFORM_ADMIN, BILLING, TENANT_ADMIN),
            Action.READ_INVOICES, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR, TENANT_ADMIN),
            Action.LIST_ALL_INVOICES, EnumSet.of(PLATFORM_ADMIN, BILLING, AUDITOR),
            Action.SYNC_STRIPE, EnumSet.of(PLATFORM_ADMIN, BILLING),
            Action.TEST_WEBHOOK, EnumSet.of(PLATFORM_ADMIN, TENANT_ADMIN),
            Action.READ_DEAD_LETTERS, EnumSet.of(PLATFORM_ADMIN, AUDITOR));

    private BillingAccess() {}

    /** Allows or throws {@link BillingException.Forbidden} (403) or {@link BillingException.NotFound} (404). */
    public static void check(Caller caller, Action action, String tenantId) {
        switch (RoleRules.decide(caller, ALLOWED.get(action), tenantId)) {
            case ALLOW -> { }
            case NOT_FOUND -> throw new BillingException.NotFound("not_found", "no such resource");
            case FORBIDDEN -> throw new BillingException.Forbidden("forbidden", "your role may not " + action.name().toLowerCase().replace('_', ' '));
        }
    }
}
