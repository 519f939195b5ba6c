package dev.tollgate.schemas.event;

/**
 * The payload of a {@link CloudEvent}. Each implementation is one or more {@link EventType}s;
 * {@link #tenantId()} becomes the envelope's {@code tenantid} extension and the Kafka key.
 */
public interface EventData {
    /** The tenant this event belongs to; the partitioning key on every topic. */
    String tenantId();

    /** The partition key of platform-wide facts (price lists, plans); never a real tenant id. */
    String PLATFORM_TENANT = "_platform";

    /** The tenant of a rejected request whose caller could not be identified. */
    String ANONYMOUS_TENANT = "_anonymous";
}
