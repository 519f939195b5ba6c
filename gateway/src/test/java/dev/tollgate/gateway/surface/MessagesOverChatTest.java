package dev.tollgate.gateway.surface;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The Messages API over a chat-only pool (ADR 0029): tool use, system prompts, stop reasons and streaming deltas. */
class MessagesOverChatTest {
    @Test
    void aRequestWithSystemToolsToolUseAndResultsBecomesAChatRequest() {
        JsonObject chat = MessagesOverChat.toChat(new JsonObject("""
                {"model":"m","max_tokens":100,"temperature":0.2,"stop_sequences":["END"],"metadata":{"user_id":"u1"},
                 "system":[{"type":"text","text":"You are terse."},{"type":"text","text":"Answer in French."}],
                 "tools":[{"name":"weather","description":"The weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
                 "tool_choice":{"type":"tool","name":"weather","disable_parallel_tool_use":true},
                 "messages":[
                   {"role":"user","content":"Weather in Paris?"},
                   {"role":"assistant","content":[{"type":"text","text":"Let me look."},
                     {"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}}]},
                   {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"12 C"}]},
                     {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]}]}"""));

        assertThat(chat.getString("model")).isEqualTo("m");
        assertThat(chat.getInteger("max_tokens")).isEqualTo(100);
        assertThat(chat.getDouble("temperature")).isEqualTo(0.2);
        assertThat(chat.getJsonArray("stop")).containsExactly("END");
        assertThat(chat.getString("user")).isEqualTo("u1");
        assertThat(chat.getValue("tool_choice")).isEqualTo(new JsonObject().put("type", "function")
                .put("function", new JsonObject().put("name", "weather")));
        assertThat(chat.getBoolean("parallel_tool_calls")).isFalse();
        JsonObject function = chat.getJsonArray("tools").getJsonObject(0).getJsonObject("function");
        assertThat(function.getString("name")).isEqualTo("weather");
        assertThat(function.getJsonObject("parameters").getString("type")).isEqualTo("object");

        JsonArray messages = chat.getJsonArray("messages");
        assertThat(messages.getJsonObject(0)).isEqualTo(new JsonObject().put("role", "system").put("content", "You are terse.\nAnswer in French."));
        assertThat(messages.getJsonObject(1)).isEqualTo(new JsonObject().put("role", "user").put("content", "Weather in Paris?"));
        JsonObject assistant = messages.getJsonObject(2);
        assertThat(assistant.getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("Let me look.");
        JsonObject call = assistant.getJsonArray("tool_calls").getJsonObject(0);
        assertThat(call.getString("id")).isEqualTo("toolu_1");
        assertThat(new JsonObject(call.getJsonObject("function").getString("arguments"))).isEqualTo(new JsonObject().put("city", "Paris"));
        assertThat(messages.getJsonObject(3)).isEqualTo(new JsonObject().put("role", "tool").put("tool_call_id", "toolu_1").put("content", "12 C"));
        assertThat(messages.getJsonObject(4).getJsonArray("content").getJsonObject(0).getJsonObject("image_url").getString("url"))
                .isEqualTo("data:image/png;base64,iVBOR");
        assertThat(messages).hasSize(5);
    }

    @Test
    void toolChoicesMapToChatsAndFinishReasonsToStopReasons() {
        assertThat(MessagesOverChat.toChat(new JsonObject("{\"tool_choice\":{\"type\":\"any\"}}")).getValue("tool_choice")).isEqualTo("required");
        assertThat(MessagesOverChat.toChat(new JsonObject("{\"tool_choice\":{\"type\":\"auto\"}}")).getValue("tool_choice")).isEqualTo("auto");
        assertThat(MessagesOverChat.toChat(new JsonObject("{\"tool_choice\":{\"type\":\"none\"}}")).getValue("tool_choice")).isEqualTo("none");
        assertThat(MessagesOverChat.stopReason("stop")).isEqualTo("end_turn");
        assertThat(MessagesOverChat.stopReason("length")).isEqualTo("max_tokens");
        assertThat(MessagesOverChat.stopReason("tool_calls")).isEqualTo("tool_use");
        assertThat(MessagesOverChat.stopReason("content_filter")).isEqualTo("refusal");
    }

    @Test
    void aWholeChatAnswerWithAToolCallBecomesAMessage() {
        JsonObject message = new JsonObject(MessagesOverChat.INSTANCE.answer(Buffer.buffer("""
                {"id":"chatcmpl-1","model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
                 "content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]}}],
                 "usage":{"prompt_tokens":30,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":10}}}"""), 200).toString());

        assertThat(message.getString("type")).isEqualTo("message");
        assertThat(message.getString("id")).isEqualTo("msg_chatcmpl-1");
        assertThat(message.getString("stop_reason")).isEqualTo("tool_use");
        JsonArray content = message.getJsonArray("content");
        assertThat(content.getJsonObject(0)).isEqualTo(new JsonObject().put("type", "text").put("text", "Checking."));
        assertThat(content.getJsonObject(1)).isEqualTo(new JsonObject().put("type", "tool_use").put("id", "call_1").put("name", "weather")
                .put("input", new JsonObject().put("city", "Paris")));
        assertThat(message.getJsonObject("usage")).isEqualTo(new JsonObject().put("input_tokens", 20).put("cache_creation_input_tokens", 0)
                .put("cache_read_input_tokens", 10).put("output_tokens", 9));

        JsonObject error = new JsonObject(MessagesOverChat.INSTANCE.answer(Buffer.buffer(
                "{\"error\":{\"message\":\"bad model\",\"type\":\"invalid_request_error\"}}"), 404).toString());
        assertThat(error).isEqualTo(new JsonObject().put("type", "error").put("error", new JsonObject().put("type", "not_found_error")
                .put("message", "bad model")));
    }

    @Test
    void streamedChunksBecomeAnthropicEventsTextThenAToolCallThenTheStop() {
        StreamTranslator translator = MessagesOverChat.INSTANCE.streamTranslator();
        var out = new StringBuilder();
        for (String chunk : List.of(
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"}}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                        + "\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]}}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":1}\"}}]}}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
                "{\"id\":\"c1\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7}}",
                "[DONE]")) {
            byte[] bytes = chunk.getBytes(StandardCharsets.UTF_8);
            out.append(translator.onData(bytes, 0, bytes.length));
        }

        List<String> names = new ArrayList<>();
        List<JsonObject> events = new ArrayList<>();
        for (String event : out.toString().split("\n\n")) {
            String[] lines = event.split("\n");
            names.add(lines[0].substring("event: ".length()));
            events.add(new JsonObject(lines[1].substring("data: ".length())));
        }
        assertThat(names).containsExactly("message_start", "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop");
        assertThat(events.get(0).getJsonObject("message").getString("id")).isEqualTo("msg_c1");
        assertThat(events.get(2).getJsonObject("delta")).isEqualTo(new JsonObject().put("type", "text_delta").put("text", "Hi"));
        assertThat(events.get(5).getInteger("index")).isEqualTo(1);
        assertThat(events.get(5).getJsonObject("content_block").getString("name")).isEqualTo("weather");
        assertThat(events.get(6).getJsonObject("delta").getString("partial_json") + events.get(7).getJsonObject("delta").getString("partial_json"))
                .isEqualTo("{\"city\":1}");
        assertThat(events.get(9).getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
        assertThat(events.get(9).getJsonObject("usage").getLong("output_tokens")).isEqualTo(7);
        assertThat(events.get(9).getJsonObject("usage").getLong("input_tokens")).isEqualTo(12);
    }
}
