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
 *       exhausted): the prompt and every completion token delivered or already reported. The prompt
 *       is the server's count when it gave one (even if the client left right after it came); else,
 *       when the client hung up, the gateway's <em>ceiling</em> of the prompt (an upper bound, so that
 *       hanging up never costs less than reading on: ADR 0022), and otherwise its estimate (the cut
 *       was not the client's doing).</li>
 *   <li><b>Completed</b>: the server's counts (with its cache-write, reasoning, audio and document details: ADR 0030); a
 *       streamed answer without them, the chunks delivered; a
 *       non-streamed answer without them bills its prompt estimate and no guessed completion.</li>
 * </ul>
 * Completion tokens never go below what {@code tokens.streamed} events already reported, so every
 * token is billed by exactly one event.
 */
public final class TerminalUsage {
    private TerminalUsage() {}

    /**
     * The gateway's own figures for a prompt: an estimate, an upper bound, and the documents it asks to rank or score
     * (0 but for rerank and score: the request says how many, the answer need not).
     */
    public record PromptSize(long estimate, long ceiling, long documents) {
        public PromptSize(long estimate, long ceiling) {
            this(estimate, ceiling, 0);
        }

        public PromptSize withDocuments(long count) {
            return new PromptSize(estimate, ceiling, count);
        }
    }

    /**
     * @param upstreamUsage   the server's own counts, when it reported them
     * @param deliveredChunks content chunks relayed to the client
     * @param reportedTokens  completion tokens already billed by {@code tokens.streamed} events
     * @param prompt          the gateway's estimate and ceiling of the prompt, for when the server gave no count
     * @param clientLeft      the request was cancelled because the client disconnected
     */
    public static TokenUsage of(EventType outcome, TokenUsage upstreamUsage, long deliveredChunks, long reportedTokens, PromptSize prompt,
                                boolean stream, boolean clientLeft) {
        return of(outcome, upstreamUsage, deliveredChunks, 0, reportedTokens, prompt, stream, clientLeft);
    }

    /**
     * As above, for a stream whose meter tells reasoning from answer chunks: {@code deliveredReasoning} of the
     * {@code deliveredChunks} were reasoning, which is what the usage says was reasoning when the server gave no count.
     */
    public static TokenUsage of(EventType outcome, TokenUsage upstreamUsage, long deliveredChunks, long deliveredReasoning,
                                long reportedTokens, PromptSize prompt, boolean stream, boolean clientLeft) {
        if (outcome == EventType.USAGE_REQUEST_FAILED && deliveredChunks == 0 && reportedTokens == 0) {
            return TokenUsage.ZERO;
        }
        long counted = upstreamUsage == null && outcome == EventType.USAGE_REQUEST_COMPLETED && !stream ? 0 : deliveredChunks;
        long completion = Math.max(upstreamUsage == null ? counted : upstreamUsage.completionTokens(), reportedTokens);
        long promptTokens = upstreamUsage != null ? upstreamUsage.promptTokens() : clientLeft ? prompt.ceiling() : prompt.estimate();
        long documents = Math.max(prompt.documents(), upstreamUsage == null ? 0 : upstreamUsage.documents());
        if (upstreamUsage == null) {
            return new TokenUsage(promptTokens, completion, 0, 0, counted == 0 ? 0 : Math.min(deliveredReasoning, completion), 0, documents);
        }
        // The server's details as it gave them (TokenUsage checked them against its counts); completion is never below its count.
        return new TokenUsage(promptTokens, completion, upstreamUsage.cachedPromptTokens(), upstreamUsage.cacheWritePromptTokens(),
                upstreamUsage.reasoningTokens(), upstreamUsage.audioSeconds(), documents);
    }
}
