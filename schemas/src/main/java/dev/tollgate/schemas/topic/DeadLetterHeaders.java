package dev.tollgate.schemas.topic;

/**
 * Headers on every {@code deadletter.v1} record, next to the original record's own headers. The
 * value and key are the original bytes, unchanged, so a fixed consumer can replay them.
 */
public final class DeadLetterHeaders {
    /** Why the record was refused (UTF-8 text). */
    public static final String ERROR = "tollgate-error";
    /** {@code topic/partition/offset} of the original record: one dead letter per origin, duplicates recognisable. */
    public static final String ORIGIN = "tollgate-origin";
    /** Which consumer refused it (the topology's usage parser, the invoice writer, the state checker, ...). */
    public static final String CONSUMER = "tollgate-consumer";

    private DeadLetterHeaders() {}
}
