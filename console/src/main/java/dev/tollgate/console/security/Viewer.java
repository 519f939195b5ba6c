package dev.tollgate.console.security;

import org.springframework.security.oauth2.core.oidc.user.OidcUser;

import java.util.List;
import java.util.Set;

/**
 * Who is signed in, as the identity provider's ID token says: for choosing what the navigation
 * offers, never for deciding access (the APIs decide, ADR 0026).
 *
 * @param tenant the tenant a tenant-admin is bound to (claim {@code tenant}); null otherwise
 */
public record Viewer(String name, Set<String> roles, String tenant) {
    public static final String PLATFORM_ADMIN = "platform-admin";
    public static final String TENANT_ADMIN = "tenant-admin";
    public static final String BILLING = "billing";
    public static final String AUDITOR = "auditor";

    public static Viewer of(OidcUser user) {
        List<String> roles = user.getClaimAsStringList("roles");
        String name = user.getFullName() != null ? user.getFullName() : user.getSubject();
        return new Viewer(name, roles == null ? Set.of() : Set.copyOf(roles), user.getClaimAsString("tenant"));
    }

    /** Platform admins, finance and auditors see every tenant; their home is the tenants list. */
    public boolean operator() {
        return roles.contains(PLATFORM_ADMIN) || roles.contains(BILLING) || roles.contains(AUDITOR);
    }

    public boolean has(String role) {
        return roles.contains(role);
    }
}
