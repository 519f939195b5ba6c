package dev.tollgate.service.security;

import org.springframework.security.oauth2.jwt.Jwt;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The authenticated caller of the admin or billing API.
 *
 * @param tenant the tenant a tenant-admin is bound to (claim {@code tenant}); null otherwise
 */
public record Caller(String subject, Set<Role> roles, String tenant) {

    /** Reads the caller from a validated JWT; unknown role names are ignored. */
    public static Caller of(Jwt jwt) {
        var roles = EnumSet.noneOf(Role.class);
        List<String> claimed = jwt.getClaimAsStringList("roles");
        if (claimed != null) {
            claimed.forEach(value -> Role.fromClaim(value).ifPresent(roles::add));
        }
        String tenant = jwt.getClaimAsString("tenant");
        if (roles.contains(Role.TENANT_ADMIN) && (tenant == null || tenant.isBlank())) {
            // A tenant-admin without a tenant administers nothing.
            roles.remove(Role.TENANT_ADMIN);
        }
        return new Caller(jwt.getSubject(), Set.copyOf(roles), tenant);
    }

    public boolean has(Role role) {
        return roles.contains(role);
    }
}
