package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.upstream.UpstreamConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PromptPrefixTest {
    private static final UpstreamConfig.PrefixRouting ROUTING = new UpstreamConfig.PrefixRouting(64, 8, null, null);
    private static final String SYSTEM = "You are a careful assistant for the accounting team. ".repeat(3); // 159 characters

    @Test
    void twoTurnsOfOneConversationShareTheFirstTurnsBlocks() {
        long[] first = PromptPrefix.blocks(chat(SYSTEM, "What is a ledger?"), ROUTING);
        JsonObject second = chat(SYSTEM, "What is a ledger?");
        second.getJsonArray("messages").add(message("assistant", "A book of accounts. ".repeat(5))).add(message("user", "And a journal?"));
        long[] next = PromptPrefix.blocks(second, ROUTING);

        assertThat(first).hasSize(2); // (6 + 159 + 1 + 5 + 17 + 1) = 189 characters: two whole blocks of 64
        assertThat(next.length).isGreaterThan(first.length);
        assertThat(next[0]).isEqualTo(first[0]);
        assertThat(next[1]).isEqualTo(first[1]);
    }

    @Test
    void blocksAreChainedSoADifferenceEarlyChangesEveryLaterBlock() {
        long[] a = PromptPrefix.blocks(chat(SYSTEM, "x".repeat(200)), ROUTING);
        long[] b = PromptPrefix.blocks(chat(SYSTEM.replaceFirst("careful", "cheerful"), "x".repeat(200)), ROUTING);
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i]).isNotEqualTo(b[i]);
        }
    }

    @Test
    void aShortPromptHasNoWholeBlockAndALongOneAtMostMaxBlocks() {
        assertThat(PromptPrefix.blocks(chat("", "hi"), ROUTING)).isEmpty();
        assertThat(PromptPrefix.blocks(new JsonObject().put("prompt", "y".repeat(10_000)), ROUTING)).hasSize(8);
        assertThat(PromptPrefix.blocks(new JsonObject().put("prompt", new JsonArray().add(1).add(2)), ROUTING)).isEmpty();
    }

    private static JsonObject chat(String system, String user) {
        return new JsonObject().put("model", "m").put("messages", new JsonArray().add(message("system", system)).add(message("user", user)));
    }

    private static JsonObject message(String role, String content) {
        return new JsonObject().put("role", role).put("content", content);
    }
}
