package dev.tollgate.service.security;

import java.util.Set;

/**
 * The rule both APIs apply: a role other than tenant-admin that may do an action does it on every
 * tenant; a tenant-admin may do it only on its own tenant and must not learn that another tenant's
 * resource exists (404); a caller none of whose roles may do it gets 403.
 */
public final class RoleRules {
    public enum Decision { ALLOW, NOT_FOUND, FORBIDDEN }

    private RoleRules() {}

    /** @param tenantId the tenant the resource belongs to; null for resources of no tenant */
    public static Decision decide(Caller caller, Set<Role> allowed, String tenantId) {
        for (Role role : caller.roles()) {
            if (role != Role.TENANT_ADMIN && allowed.contains(role)) {
                return Decision.ALLOW;
            }
        }
        if (caller.has(Role.TENANT_ADMIN) && allowed.contains(Role.TENANT_ADMIN)) {
            return tenantId != null && tenantId.equals(caller.tenant()) ? Decision.ALLOW : Decision.NOT_FOUND;
        }
        return Decision.FORBIDDEN;
    }
}
