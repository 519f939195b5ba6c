package dev.tollgate.projector.api;

/** A refusal of the billing API, answered as an RFC 9457 problem with {@code code}. */
public sealed class BillingException extends RuntimeException {
    private final String code;

    BillingException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** 400 */
    public static final class Invalid extends BillingException {
        public Invalid(String code, String message) {
            super(code, message);
        }
    }

    /** 403 */
    public static final class Forbidden extends BillingException {
        public Forbidden(String code, String message) {
            super(code, message);
        }
    }

    /** 404 */
    public static final class NotFound extends BillingException {
        public NotFound(String code, String message) {
            super(code, message);
        }
    }

    /** 409 */
    public static final class Conflict extends BillingException {
        public Conflict(String code, String message) {
            super(code, message);
        }
    }

    /** 502: a dependency (Stripe) refused or failed. */
    public static final class Upstream extends BillingException {
        public Upstream(String code, String message) {
            super(code, message);
        }
    }

    /** 503: not ready yet (state restoring, rebalancing, not configured); retry. */
    public static final class Unavailable extends BillingException {
        public Unavailable(String code, String message) {
            super(code, message);
        }
    }
}
