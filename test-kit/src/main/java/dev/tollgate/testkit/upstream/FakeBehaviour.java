package dev.tollgate.testkit.upstream;

import io.vertx.core.MultiMap;

/**
 * How the fake upstream behaves. The defaults are set when it starts (or through
 * {@code POST /_fake/behaviour}); a request may override any of them with a header, so that one
 * test can drive one request through the gateway without touching the others:
 * <ul>
 *   <li>{@code x-fake-ttft-ms}: delay before the first token (or the whole non-streamed answer)</li>
 *   <li>{@code x-fake-inter-token-ms}: delay between streamed tokens</li>
 *   <li>{@code x-fake-completion-tokens}: tokens to generate (capped by the request's {@code max_tokens})</li>
 *   <li>{@code x-fake-fail-status}: answer with this HTTP status and an OpenAI error body</li>
 *   <li>{@code x-fake-disconnect-after-tokens}: close the connection after sending this many tokens</li>
 *   <li>{@code x-fake-cached-tokens}: prompt tokens to report as cached</li>
 *   <li>{@code x-fake-omit-usage}: never report usage, even when asked (as some servers do)</li>
 * </ul>
 */
public record FakeBehaviour(
        long timeToFirstTokenMs,
        long interTokenDelayMs,
        int completionTokens,
        int failStatus,
        int disconnectAfterTokens,
        int cachedPromptTokens,
        boolean omitUsage,
        int maxRunningRequests) {

    /** Immediate, 16 tokens, no failures, no concurrency cap. */
    public static final FakeBehaviour DEFAULT = new FakeBehaviour(0, 0, 16, 0, -1, 0, false, Integer.MAX_VALUE);

    public FakeBehaviour {
        if (timeToFirstTokenMs < 0 || interTokenDelayMs < 0 || completionTokens < 0 || cachedPromptTokens < 0) {
            throw new IllegalArgumentException("fake upstream delays and token counts must be >= 0");
        }
        if (maxRunningRequests < 1) {
            throw new IllegalArgumentException("maxRunningRequests must be >= 1");
        }
    }

    public FakeBehaviour withTimeToFirstTokenMs(long value) {
        return new FakeBehaviour(value, interTokenDelayMs, completionTokens, failStatus, disconnectAfterTokens,
                cachedPromptTokens, omitUsage, maxRunningRequests);
    }

    public FakeBehaviour withInterTokenDelayMs(long value) {
        return new FakeBehaviour(timeToFirstTokenMs, value, completionTokens, failStatus, disconnectAfterTokens,
                cachedPromptTokens, omitUsage, maxRunningRequests);
    }

    public FakeBehaviour withCompletionTokens(int value) {
        return new FakeBehaviour(timeToFirstTokenMs, interTokenDelayMs, value, failStatus, disconnectAfterTokens,
                cachedPromptTokens, omitUsage, maxRunningRequests);
    }

    public FakeBehaviour withCachedPromptTokens(int value) {
        return new FakeBehaviour(timeToFirstTokenMs, interTokenDelayMs, completionTokens, failStatus, disconnectAfterTokens,
                value, omitUsage, maxRunningRequests);
    }

    public FakeBehaviour withMaxRunningRequests(int value) {
        return new FakeBehaviour(timeToFirstTokenMs, interTokenDelayMs, completionTokens, failStatus,
                disconnectAfterTokens, cachedPromptTokens, omitUsage, value);
    }

    /** These defaults with any {@code x-fake-*} header of the request applied. */
    FakeBehaviour overriddenBy(MultiMap headers) {
        return new FakeBehaviour(
                longHeader(headers, "x-fake-ttft-ms", timeToFirstTokenMs),
                longHeader(headers, "x-fake-inter-token-ms", interTokenDelayMs),
                (int) longHeader(headers, "x-fake-completion-tokens", completionTokens),
                (int) longHeader(headers, "x-fake-fail-status", failStatus),
                (int) longHeader(headers, "x-fake-disconnect-after-tokens", disconnectAfterTokens),
                (int) longHeader(headers, "x-fake-cached-tokens", cachedPromptTokens),
                headers.contains("x-fake-omit-usage") ? Boolean.parseBoolean(headers.get("x-fake-omit-usage")) : omitUsage,
                maxRunningRequests);
    }

    private static long longHeader(MultiMap headers, String name, long fallback) {
        String value = headers.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("header " + name + " must be an integer, was '" + value + "'");
        }
    }
}
