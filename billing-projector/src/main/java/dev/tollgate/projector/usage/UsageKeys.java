package dev.tollgate.projector.usage;

import java.time.LocalDate;

/**
 * Keys of the live-usage stores. All start with the tenant id and a bar, so one tenant's usage is a
 * key range, held by the instance that owns the tenant's partition (usage.v1 is keyed by tenant).
 */
public final class UsageKeys {
    /** Stands for "no key" (usage of a request without a key id). */
    public static final String NO_KEY = "-";

    private UsageKeys() {}

    /** {@code tenant|YYYY-MM-DD|key|model}, the day in the tenant's billing zone. */
    public static String day(String tenantId, LocalDate day, String keyId, String model) {
        return tenantId + "|" + day + "|" + (keyId == null ? NO_KEY : keyId) + "|" + model;
    }

    /** {@code tenant|key|model}: the window store adds the minute. */
    public static String minute(String tenantId, String keyId, String model) {
        return tenantId + "|" + (keyId == null ? NO_KEY : keyId) + "|" + model;
    }

    /** The smallest key of a tenant's range. */
    public static String tenantFrom(String tenantId) {
        return tenantId + "|";
    }

    /**
     * The smallest day-store key of {@code day}: the bare prefix {@code tenant|YYYY-MM-DD|}, which
     * sorts before every key that extends it whatever characters the key id and model use.
     */
    public static String dayFrom(String tenantId, LocalDate day) {
        return tenantId + "|" + day + "|";
    }

    /** The largest day-store key of {@code day}. */
    public static String dayTo(String tenantId, LocalDate day) {
        return tenantId + "|" + day + "|\uffff";
    }

    /** The largest key of a tenant's range. */
    public static String tenantTo(String tenantId) {
        return tenantId + "|\uffff";
    }

    /** The parts of a key: tenant, [day,] key, model. */
    public static String[] parts(String key) {
        return key.split("\\|", -1);
    }
}
