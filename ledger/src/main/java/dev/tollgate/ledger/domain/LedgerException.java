package dev.tollgate.ledger.domain;

/**
 * A refused command or request. One subtype per category; the admin API maps each to one HTTP
 * status and an RFC 9457 problem type in a single place ({@code ProblemHandler}).
 */
public abstract sealed class LedgerException extends RuntimeException {
    private final String code;

    protected LedgerException(String code, String message) {
        super(message);
        this.code = code;
    }

    /** A stable machine-readable reason, e.g. {@code tenant_suspended}. */
    public String code() {
        return code;
    }

    /** The input breaks a rule (422). */
    public static final class Invalid extends LedgerException {
        public Invalid(String code, String message) {
            super(code, message);
        }
    }

    /** The resource does not exist, or the caller may not know that it does (404). */
    public static final class NotFound extends LedgerException {
        public NotFound(String code, String message) {
            super(code, message);
        }
    }

    /** The request conflicts with the current state (409). */
    public static final class Conflict extends LedgerException {
        public Conflict(String code, String message) {
            super(code, message);
        }
    }

    /** The caller's role does not allow this (403). */
    public static final class Forbidden extends LedgerException {
        public Forbidden(String code, String message) {
            super(code, message);
        }
    }
}
