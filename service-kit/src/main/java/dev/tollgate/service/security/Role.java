package dev.tollgate.service.security;

import java.util.Arrays;
import java.util.Optional;

/** The roles of the admin and billing APIs, as they appear in the JWT {@code roles} claim. */
public enum Role {
    PLATFORM_ADMIN("platform-admin"),
    /** Bound to one tenant by the {@code tenant} claim. */
    TENANT_ADMIN("tenant-admin"),
    BILLING("billing"),
    AUDITOR("auditor");

    private final String claimValue;

    Role(String claimValue) {
        this.claimValue = claimValue;
    }

    public String claimValue() {
        return claimValue;
    }

    public static Optional<Role> fromClaim(String value) {
        return Arrays.stream(values()).filter(r -> r.claimValue.equals(value)).findFirst();
    }
}
