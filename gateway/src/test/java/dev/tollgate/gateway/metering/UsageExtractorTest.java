package dev.tollgate.gateway.metering;

import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.testkit.upstream.Cassettes;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Usage read from real OpenAI responses (recorded cassettes). */
class UsageExtractorTest {

    @Test
    void chatCompletionUsageIncludingReasoningTokensInCompletion() {
        assertThat(UsageExtractor.fromJson(Cassettes.load("chat-basic").responseBody()))
                .contains(new TokenUsage(8, 377, 0, 0, 320, 0, 0));
        assertThat(UsageExtractor.fromJson(Cassettes.load("chat-tools").responseBody()))
                .contains(new TokenUsage(162, 287, 0, 0, 256, 0, 0));
    }

    @Test
    void textCompletionUsageWithoutDetails() {
        assertThat(UsageExtractor.fromJson(Cassettes.load("completion-basic").responseBody()))
                .contains(new TokenUsage(31, 25, 0));
    }

    @Test
    void embeddingsUsageHasOnlyPromptTokens() {
        assertThat(UsageExtractor.fromJson(Cassettes.load("embeddings-basic").responseBody()))
                .contains(new TokenUsage(7, 0, 0));
    }

    @Test
    void cachedPromptTokensAreReadFromTheDetails() {
        String body = "{\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":64}}}";

        assertThat(UsageExtractor.fromJson(body)).contains(new TokenUsage(100, 5, 64));
    }

    @Test
    void errorBodiesAndContentChunksCarryNoUsage() {
        assertThat(UsageExtractor.fromJson(Cassettes.load("chat-bad-request").responseBody())).isEmpty();
        assertThat(UsageExtractor.fromJson("{\"choices\":[],\"usage\":null}")).isEmpty();
        assertThat(UsageExtractor.fromJson("not json")).isEmpty();
    }

    /** A model server that reports impossible counts is not believed: the gateway meters with its own counts instead. */
    @Test
    void impossibleCountsAreNotBelieved() {
        assertThat(UsageExtractor.fromJson("{\"usage\":{\"prompt_tokens\":-12,\"completion_tokens\":2}}")).isEmpty();
        assertThat(UsageExtractor.fromJson("{\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":-2}}")).isEmpty();
        assertThat(UsageExtractor.fromJson("{\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":-1}}}")).isEmpty();
        assertThat(UsageExtractor.fromJson("{\"usage\":{\"prompt_tokens\":\"lots\",\"completion_tokens\":2}}")).isEmpty();
        assertThat(UsageExtractor.fromJson("{\"usage\":{\"prompt_tokens\":1e300,\"completion_tokens\":2}}")).isEmpty();
    }
}
