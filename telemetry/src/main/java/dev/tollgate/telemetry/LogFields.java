package dev.tollgate.telemetry;

/**
 * The names of the correlation fields every Tollgate log line may carry (MDC entries or SLF4J
 * key-value pairs; both become top-level JSON fields). Never a secret: key ids, never keys.
 */
public final class LogFields {
    public static final String TRACE_ID = "trace_id";
    public static final String SPAN_ID = "span_id";
    public static final String TENANT_ID = "tenant_id";
    public static final String KEY_ID = "key_id";
    public static final String REQUEST_ID = "request_id";
    /** The authenticated subject of an admin or billing call (a user or service name from the JWT). */
    public static final String SUBJECT = "subject";

    private LogFields() {}
}
