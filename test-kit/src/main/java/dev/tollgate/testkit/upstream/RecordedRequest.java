package dev.tollgate.testkit.upstream;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request the fake upstream received, with what became of it.
 *
 * @param headers    lower-cased header names to values
 * @param tokensSent completion tokens written to the client so far
 * @param outcome    how it ended, or {@link Outcome#IN_PROGRESS}
 * @param endedAt    when it ended (null while in progress)
 */
public record RecordedRequest(
        String id,
        String method,
        String path,
        Map<String, List<String>> headers,
        String body,
        Instant receivedAt,
        int tokensSent,
        Outcome outcome,
        Instant endedAt) {

    /** How a request ended at the upstream. */
    public enum Outcome {
        IN_PROGRESS,
        COMPLETED,
        FAILED,
        /** The upstream closed the connection on purpose ({@code x-fake-disconnect-after-tokens}). */
        DISCONNECTED,
        /** The client (the gateway) went away first: the request was cancelled. */
        CANCELLED
    }

    /** The first value of header {@code name} (case-insensitive), or null. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    RecordedRequest with(int tokens, Outcome newOutcome) {
        return new RecordedRequest(id, method, path, headers, body, receivedAt, tokens, newOutcome,
                newOutcome == Outcome.IN_PROGRESS ? null : Instant.now());
    }
}
