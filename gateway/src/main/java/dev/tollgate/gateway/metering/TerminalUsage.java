package dev.tollgate.gateway.metering;

import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.usage.TokenUsage;

/**
 * What a request's terminal event says it used: the one place that decides which outcomes bill what
 * (ADR 0018).
 * <ul>
 *   <li><b>Failed with nothing delivered</b> (the model server refused it with a 4xx, or failed with a
 *       5xx, a reset or a timeout before the first byte reached the client): nothing. The client got
 *       an error and no output; a refusal did no work, and a failure is the platform's to bear.</li>
 *   <li><b>Failed or cancelled after output was delivered</b> (cut mid-stream, client hung up, budget
 *       exhausted): the prompt (the server's count when it gave one, else the gateway's estimate) and
 *       every completion token delivered or already reported.</li>
 *   <li><b>Completed</b>: the server's counts; a streamed answer without them, the chunks delivered; a
 *       non-streamed answer without them bills its prompt estimate and no guessed completion.</li>
 * </ul>
 * Completion tokens never go below what {@code tokens.streamed} events already reported, so every
 * token is billed by exactly one event.
 */
public final class TerminalUsage {
    private TerminalUsage() {}

    /**
     * @param upstreamUsage   the server's own counts, when it reported them
     * @param deliveredChunks content chunks relayed to the client
     * @param reportedTokens  completion tokens already billed by {@code tokens.streamed} events
     * @param promptEstimate  the gateway's estimate of the prompt, used when the server gave no count
     */
    public static TokenUsage of(EventType outcome, TokenUsage upstreamUsage, long deliveredChunks, long reportedTokens, long promptEstimate,
                                boolean stream) {
        if (outcome == EventType.USAGE_REQUEST_FAILED && deliveredChunks == 0 && reportedTokens == 0) {
            return TokenUsage.ZERO;
        }
        long counted = upstreamUsage == null && outcome == EventType.USAGE_REQUEST_COMPLETED && !stream ? 0 : deliveredChunks;
        long completion = Math.max(upstreamUsage == null ? counted : upstreamUsage.completionTokens(), reportedTokens);
        long prompt = upstreamUsage == null ? promptEstimate : upstreamUsage.promptTokens();
        long cached = upstreamUsage == null ? 0 : upstreamUsage.cachedPromptTokens(); // never above the prompt (TokenUsage checks)
        return new TokenUsage(prompt, completion, cached);
    }
}
