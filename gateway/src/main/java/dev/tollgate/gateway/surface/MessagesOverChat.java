package dev.tollgate.gateway.surface;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.gateway.GatewayError;
import dev.tollgate.gateway.metering.SseMeter;
import dev.tollgate.gateway.metering.UsageExtractor;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.TokenUsage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The Anthropic Messages API served by a pool that speaks only chat completions (ADR 0029): the
 * client's request becomes a chat completion (system prompt, text and image blocks, tool use and tool
 * results, tools and tool choice, stop sequences), and the server's answer becomes a message (text and
 * tool-use blocks, the stop reason, Anthropic's usage), streamed as Anthropic's events. Metering reads
 * the server's own chat answer as chat's surface does ({@link OpenAiSurface}), so billing is the same as
 * for chat; the client sees only the Messages API, errors included.
 */
public final class MessagesOverChat extends NamedSurface {
    public static final MessagesOverChat INSTANCE = new MessagesOverChat();

    private MessagesOverChat() {
        super(Endpoint.MESSAGES, OpenAiSurface.CHAT_COMPLETIONS.path(), "chat");
    }

    @Override
    public MeteredFields read(JsonObject body, long maxTokensCeiling) throws MeteredFields.Invalid {
        return Messages.INSTANCE.read(body, maxTokensCeiling);
    }

    /** Rewrites the Messages request in place as a chat completion request. */
    @Override
    public void prepare(JsonObject body, MeteredFields fields) {
        JsonObject chat = toChat(body);
        body.clear();
        body.mergeIn(chat);
        OpenAiSurface.CHAT_COMPLETIONS.prepare(body, fields);
    }

    static JsonObject toChat(JsonObject request) {
        var chat = new JsonObject().put("model", request.getValue("model")).put("max_tokens", request.getValue("max_tokens"));
        var messages = new JsonArray();
        Object system = request.getValue("system");
        if (system != null) {
            messages.add(new JsonObject().put("role", "system").put("content", text(system)));
        }
        if (request.getValue("messages") instanceof JsonArray turns) {
            for (Object turn : turns) {
                if (turn instanceof JsonObject message) {
                    addTurn(message, messages);
                }
            }
        }
        chat.put("messages", messages);
        for (String same : new String[] {"stream", "temperature", "top_p", "top_k"}) {
            if (request.containsKey(same)) {
                chat.put(same, request.getValue(same));
            }
        }
        if (request.getValue("stop_sequences") instanceof JsonArray stops) {
            chat.put("stop", stops);
        }
        if (request.getValue("metadata") instanceof JsonObject metadata && metadata.getValue("user_id") instanceof String user) {
            chat.put("user", user);
        }
        if (request.getValue("tools") instanceof JsonArray tools) {
            var functions = new JsonArray();
            for (Object tool : tools) {
                if (tool instanceof JsonObject t) {
                    var function = new JsonObject().put("name", t.getValue("name")).put("parameters", t.getValue("input_schema"));
                    if (t.containsKey("description")) {
                        function.put("description", t.getValue("description"));
                    }
                    functions.add(new JsonObject().put("type", "function").put("function", function));
                }
            }
            chat.put("tools", functions);
        }
        if (request.getValue("tool_choice") instanceof JsonObject choice) {
            switch (String.valueOf(choice.getValue("type"))) {
                case "any" -> chat.put("tool_choice", "required");
                case "none" -> chat.put("tool_choice", "none");
                case "tool" -> chat.put("tool_choice", new JsonObject().put("type", "function")
                        .put("function", new JsonObject().put("name", choice.getValue("name"))));
                default -> chat.put("tool_choice", "auto");
            }
            if (Boolean.TRUE.equals(choice.getValue("disable_parallel_tool_use"))) {
                chat.put("parallel_tool_calls", false);
            }
        }
        return chat;
    }

    /** One Messages turn as chat messages: tool results become {@code tool} messages, tool use an assistant's tool calls. */
    private static void addTurn(JsonObject message, JsonArray messages) {
        String role = String.valueOf(message.getValue("role"));
        Object content = message.getValue("content");
        if (!(content instanceof JsonArray blocks)) {
            messages.add(new JsonObject().put("role", role).put("content", content));
            return;
        }
        var parts = new JsonArray();
        var toolCalls = new JsonArray();
        for (Object item : blocks) {
            if (!(item instanceof JsonObject block)) {
                continue;
            }
            switch (String.valueOf(block.getValue("type"))) {
                case "text" -> parts.add(new JsonObject().put("type", "text").put("text", block.getValue("text")));
                case "image" -> {
                    if (block.getValue("source") instanceof JsonObject source) {
                        String url = "url".equals(source.getValue("type")) ? String.valueOf(source.getValue("url"))
                                : "data:" + source.getValue("media_type") + ";base64," + source.getValue("data");
                        parts.add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", url)));
                    }
                }
                case "tool_use" -> toolCalls.add(new JsonObject().put("id", block.getValue("id")).put("type", "function")
                        .put("function", new JsonObject().put("name", block.getValue("name"))
                                .put("arguments", block.getValue("input") instanceof JsonObject input ? input.encode() : "{}")));
                case "tool_result" -> messages.add(new JsonObject().put("role", "tool").put("tool_call_id", block.getValue("tool_use_id"))
                        .put("content", text(block.getValue("content"))));
                default -> { } // thinking and other blocks have no chat counterpart
            }
        }
        if (!parts.isEmpty() || !toolCalls.isEmpty()) {
            var chatMessage = new JsonObject().put("role", role);
            chatMessage.put("content", parts.isEmpty() ? null : parts);
            if (!toolCalls.isEmpty()) {
                chatMessage.put("tool_calls", toolCalls);
            }
            messages.add(chatMessage);
        }
    }

    /** A system prompt or tool result (text, or text blocks) as plain text. */
    private static String text(Object value) {
        if (value instanceof JsonArray blocks) {
            var text = new StringBuilder();
            for (Object block : blocks) {
                if (block instanceof JsonObject b && b.getValue("text") instanceof String s) {
                    text.append(text.isEmpty() ? "" : "\n").append(s);
                }
            }
            return text.toString();
        }
        return value == null ? "" : String.valueOf(value);
    }

    /** The server's chat counts, read as for chat. */
    @Override
    public Optional<TokenUsage> usage(String answer) {
        return OpenAiSurface.CHAT_COMPLETIONS.usage(answer);
    }

    /** The server's chat chunks, metered as for chat. */
    @Override
    public SseMeter streamMeter() {
        return OpenAiSurface.CHAT_COMPLETIONS.streamMeter();
    }

    @Override
    public String streamError(GatewayError error, long events) {
        return Messages.INSTANCE.streamError(error, events);
    }

    /** The server's whole chat answer as a message, or its error in Anthropic's shape. */
    @Override
    public Buffer answer(Buffer upstreamAnswer, int status) {
        JsonNode chat = JsonEvents.parse(upstreamAnswer.toString(StandardCharsets.UTF_8));
        if (status >= 400 || chat == null || !chat.path("choices").isArray()) {
            String message = chat == null ? "The model server failed to answer." : chat.path("error").path("message").asText("The model"
                    + " server failed to answer.");
            return Buffer.buffer(new JsonObject().put("type", "error").put("error", new JsonObject()
                    .put("type", ErrorShape.anthropicType(status >= 400 ? status : 502)).put("message", message)).encode());
        }
        JsonNode choice = chat.path("choices").path(0);
        JsonNode message = choice.path("message");
        var content = new JsonArray();
        if (message.path("content").isTextual() && !message.path("content").asText().isEmpty()) {
            content.add(new JsonObject().put("type", "text").put("text", message.path("content").asText()));
        }
        for (JsonNode call : message.path("tool_calls")) {
            content.add(new JsonObject().put("type", "tool_use").put("id", call.path("id").asText())
                    .put("name", call.path("function").path("name").asText()).put("input", arguments(call.path("function").path("arguments"))));
        }
        return Buffer.buffer(new JsonObject().put("id", messageId(chat)).put("type", "message").put("role", "assistant")
                .put("model", chat.path("model").asText()).put("content", content)
                .put("stop_reason", stopReason(choice.path("finish_reason").asText(null))).put("stop_sequence", null)
                .put("usage", usage(UsageExtractor.fromNode(chat).orElse(TokenUsage.ZERO))).encode());
    }

    private static String messageId(JsonNode chat) {
        return "msg_" + chat.path("id").asText("");
    }

    /** A tool call's arguments (a JSON string) as the tool use's input object; what is not an object becomes {}. */
    private static JsonObject arguments(JsonNode arguments) {
        JsonNode parsed = arguments.isTextual() ? JsonEvents.parse(arguments.asText()) : arguments;
        return parsed != null && parsed.isObject() ? new JsonObject(parsed.toString()) : new JsonObject();
    }

    /** Chat's finish reason as Anthropic's stop reason. */
    static String stopReason(String finishReason) {
        if (finishReason == null) {
            return null;
        }
        return switch (finishReason) {
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            case "content_filter" -> "refusal";
            default -> "end_turn";
        };
    }

    /** Chat's counts as Anthropic's: its input tokens leave out the prompt read from the cache. */
    private static JsonObject usage(TokenUsage usage) {
        return new JsonObject().put("input_tokens", usage.uncachedPromptTokens()).put("cache_creation_input_tokens", 0)
                .put("cache_read_input_tokens", usage.cachedPromptTokens()).put("output_tokens", usage.completionTokens());
    }

    @Override
    public StreamTranslator streamTranslator() {
        return new ChunksToEvents();
    }

    /**
     * Chat chunks to Anthropic's events: {@code message_start} at the first chunk; a text block and a block per tool
     * call, each opened at its first delta and closed when another opens; at {@code [DONE]} the open block's stop,
     * {@code message_delta} with the stop reason and the usage chunk's counts, and {@code message_stop}.
     */
    static final class ChunksToEvents implements StreamTranslator {
        private boolean started;
        private int nextBlock;
        /** The open block's index, -1 when none; the text block's, and each tool call's by its chat index. */
        private int openBlock = -1;
        private int textBlock = -1;
        private final Map<Integer, Integer> toolBlocks = new TreeMap<>();
        private String stopReason;
        private TokenUsage usage = TokenUsage.ZERO;

        @Override
        public String onData(byte[] data, int offset, int length) {
            var out = new StringBuilder();
            String text = new String(data, offset, length, StandardCharsets.UTF_8);
            if (text.equals("[DONE]")) {
                closeOpenBlock(out);
                event(out, "message_delta", new JsonObject().put("type", "message_delta")
                        .put("delta", new JsonObject().put("stop_reason", stopReason == null ? "end_turn" : stopReason).put("stop_sequence", null))
                        .put("usage", usage(usage)));
                event(out, "message_stop", new JsonObject().put("type", "message_stop"));
                return out.toString();
            }
            JsonNode chunk = JsonEvents.parse(text);
            if (chunk == null || !chunk.isObject()) {
                return "";
            }
            if (!started) {
                started = true;
                event(out, "message_start", new JsonObject().put("type", "message_start").put("message", new JsonObject()
                        .put("id", messageId(chunk)).put("type", "message").put("role", "assistant").put("model", chunk.path("model").asText())
                        .put("content", new JsonArray()).put("stop_reason", null).put("stop_sequence", null)
                        .put("usage", usage(TokenUsage.ZERO))));
            }
            UsageExtractor.fromNode(chunk).ifPresent(u -> usage = u);
            JsonNode choice = chunk.path("choices").path(0);
            JsonNode delta = choice.path("delta");
            if (delta.path("content").isTextual() && !delta.path("content").asText().isEmpty()) {
                if (textBlock < 0 || openBlock != textBlock) {
                    closeOpenBlock(out);
                    textBlock = openBlock = nextBlock++;
                    event(out, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", textBlock)
                            .put("content_block", new JsonObject().put("type", "text").put("text", "")));
                }
                event(out, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", textBlock)
                        .put("delta", new JsonObject().put("type", "text_delta").put("text", delta.path("content").asText())));
            }
            for (JsonNode call : delta.path("tool_calls")) {
                int chatIndex = call.path("index").asInt(0);
                Integer block = toolBlocks.get(chatIndex);
                if (block == null) {
                    closeOpenBlock(out);
                    block = openBlock = nextBlock++;
                    toolBlocks.put(chatIndex, block);
                    event(out, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", block)
                            .put("content_block", new JsonObject().put("type", "tool_use").put("id", call.path("id").asText())
                                    .put("name", call.path("function").path("name").asText()).put("input", new JsonObject())));
                }
                String arguments = call.path("function").path("arguments").asText("");
                if (!arguments.isEmpty()) {
                    event(out, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", block)
                            .put("delta", new JsonObject().put("type", "input_json_delta").put("partial_json", arguments)));
                }
            }
            if (choice.path("finish_reason").isTextual()) {
                stopReason = stopReason(choice.path("finish_reason").asText());
            }
            return out.toString();
        }

        private void closeOpenBlock(StringBuilder out) {
            if (openBlock >= 0) {
                event(out, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", openBlock));
                openBlock = -1;
            }
        }

        private static void event(StringBuilder out, String name, JsonObject data) {
            out.append("event: ").append(name).append("\ndata: ").append(data.encode()).append("\n\n");
        }
    }
}
