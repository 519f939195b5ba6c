package dev.tollgate.gateway.scheduling;

import dev.tollgate.gateway.upstream.UpstreamConfig;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/**
 * Tells a pool's model servers the class of a request, as the pool's {@code priority} hint says
 * (ADR 0023): a body field (vLLM's {@code priority}) or a header. The caller's own {@code priority}
 * field never reaches a server: the gateway, not the tenant, decides who goes first.
 */
public final class UpstreamPriority {
    /** The body field vLLM reads; removed from every request whatever its pool. */
    static final String VLLM_FIELD = "priority";

    private UpstreamPriority() {}

    /** A header to send upstream. */
    public record Header(String name, String value) {}

    /** Removes the caller's {@code priority} and sets the pool's field, if it names one. */
    public static void applyTo(JsonObject body, UpstreamConfig.Pool pool, String priorityClass) {
        body.remove(VLLM_FIELD);
        UpstreamConfig.PriorityHint hint = pool.priority();
        if (hint != null && hint.field() != null) {
            body.remove(hint.field());
            body.put(hint.field(), hint.values().get(priorityClass));
        }
    }

    /** The header the pool's servers read the class from, if it names one. */
    public static Optional<Header> header(UpstreamConfig.Pool pool, String priorityClass) {
        UpstreamConfig.PriorityHint hint = pool.priority();
        if (hint == null || hint.header() == null || priorityClass == null) {
            return Optional.empty();
        }
        return Optional.of(new Header(hint.header(), Integer.toString(hint.values().get(priorityClass))));
    }
}
