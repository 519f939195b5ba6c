package dev.tollgate.gateway.proxy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

class PromptEstimateTest {

    @Test
    void tokenIdPromptsCountOneTokenPerIdInBothFigures() {
        JsonArray ids = new JsonArray(LongStream.range(1000, 4000).boxed().toList());
        JsonObject body = new JsonObject().put("model", "m").put("prompt", ids);
        assertThat(PromptEstimate.tokens(body)).isEqualTo(3_000);
        assertThat(PromptEstimate.ceiling(body)).isEqualTo(3_000);
        JsonObject batch = new JsonObject().put("prompt", new JsonArray().add(new JsonArray().add(1).add(2)).add(new JsonArray().add(3)));
        assertThat(PromptEstimate.ceiling(batch)).isEqualTo(3);
    }

    @Test
    void theCeilingIsOneTokenPerUtf8ByteSoNoTextTokenizesAboveIt() {
        String cjk = "頭痛が痛い"; // 5 characters, 15 UTF-8 bytes
        String emoji = "🙂🙂"; // 2 code points, 8 UTF-8 bytes
        JsonObject body = new JsonObject().put("messages", new JsonArray()
                .add(new JsonObject().put("role", "user").put("content", cjk))
                .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", emoji))
                        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "data:..."))))));
        assertThat(PromptEstimate.ceiling(body)).isEqualTo(2 * PromptEstimate.MESSAGE_CEILING + 15 + 8 + PromptEstimate.MEDIA_CEILING);
        assertThat(PromptEstimate.tokens(body)).isLessThan(PromptEstimate.ceiling(body)).isPositive();
    }

    @Test
    void toolsAndToolCallsCountAndANonEmptyPromptIsNeverZero() {
        JsonObject tools = new JsonObject().put("messages", new JsonArray().add(new JsonObject().put("role", "assistant")
                        .put("tool_calls", new JsonArray().add(new JsonObject().put("function", new JsonObject().put("arguments", "{}"))))))
                .put("tools", new JsonArray().add(new JsonObject().put("type", "function")));
        assertThat(PromptEstimate.ceiling(tools)).isGreaterThan(PromptEstimate.MESSAGE_CEILING + 20);
        assertThat(PromptEstimate.ceiling(new JsonObject().put("prompt", "a"))).isEqualTo(1);
        assertThat(PromptEstimate.ceiling(new JsonObject().put("input", new JsonArray().add("x").add("yz")))).isEqualTo(3);
        assertThat(PromptEstimate.ceiling(new JsonObject())).isZero();
    }

    @Test
    void theResponsesAndMessagesPromptsCountTheirSystemPromptsItemsAndBlocks() {
        JsonObject responses = new JsonObject().put("instructions", "abcd").put("input", new JsonArray()
                .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "input_text").put("text", "efgh"))
                        .add(new JsonObject().put("type", "input_image").put("image_url", "https://x/y.png"))))
                .add(new JsonObject().put("type", "function_call_output").put("call_id", "c1").put("output", "ij")));
        assertThat(PromptEstimate.ceiling(responses)).as("instructions and one message as turns, text, one image, the tool output")
                .isEqualTo(2 * PromptEstimate.MESSAGE_CEILING + 4 + 4 + PromptEstimate.MEDIA_CEILING + 2);

        JsonObject messages = new JsonObject().put("system", new JsonArray().add(new JsonObject().put("type", "text").put("text", "ab")))
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "base64")))
                                .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "t1").put("content", "cde"))))
                        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "tool_use").put("id", "t1").put("name", "f")
                                        .put("input", new JsonObject().put("q", 1))))));
        assertThat(PromptEstimate.ceiling(messages)).as("the system prompt and two messages as turns, texts, an image, the tool input")
                .isEqualTo(3 * PromptEstimate.MESSAGE_CEILING + 2 + PromptEstimate.MEDIA_CEILING + 3 + "{\"q\":1}".length());
    }

    @Test
    void aRerankQueryCountsOncePerDocumentItIsReadWith() {
        JsonObject rerank = new JsonObject().put("query", "abc")
                .put("documents", new JsonArray().add("de").add(new JsonObject().put("text", "fgh")).add("i"));
        assertThat(PromptEstimate.ceiling(rerank)).isEqualTo(3 * 3 + 2 + 3 + 1);
        JsonObject pairs = new JsonObject().put("text_1", new JsonArray().add("ab").add("c")).put("text_2", new JsonArray().add("d").add("ef"));
        assertThat(PromptEstimate.ceiling(pairs)).isEqualTo(2 + 1 + 1 + 2);
        assertThat(PromptEstimate.ceiling(new JsonObject().put("text_1", "ab").put("text_2", "cd"))).isEqualTo(4);
    }
}
