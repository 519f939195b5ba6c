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
}
