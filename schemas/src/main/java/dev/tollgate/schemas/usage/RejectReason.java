package dev.tollgate.schemas.usage;

/** Why the gateway refused a request before sending it upstream. */
public enum RejectReason {
    /** No, malformed, unknown, expired or revoked key; or a suspended tenant. */
    AUTHENTICATION,
    /** A valid key that may not use the model or endpoint. */
    PERMISSION,
    /** A rate, concurrency, token or spend limit. */
    QUOTA,
    /** A malformed or oversized request body. */
    VALIDATION,
    /** No upstream could take the request (queues full, all endpoints down). */
    CAPACITY
}
