package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.metering.TerminalUsage.PromptSize;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;

/**
 * What the gateway can say about a prompt's size without the model's tokenizer, from the request
 * body: the text (messages' content parts, tool calls, a completion prompt, embedding inputs, the
 * tool definitions, the Responses API's input items and instructions, the Messages API's system
 * prompt and content blocks), token ids given as numbers (one token each, exactly), images, audio
 * and document parts.
 * <ul>
 *   <li>{@link #tokens} is an <b>estimate</b> for reservations (one token per 4 characters, 4 per
 *       message, {@value #IMAGE_ESTIMATE} per image): admission must be cheap, not exact.</li>
 *   <li>{@link #ceiling} is an <b>upper bound</b>, billed as the prompt only when the model server
 *       gave no count (the client hung up before its usage chunk, or a server that reports none;
 *       ADR 0022): one token per UTF-8 byte of text (a byte-level BPE or byte-fallback tokenizer never
 *       makes more tokens than bytes), every token id, {@value #MESSAGE_CEILING} per message for the
 *       chat template, {@value #MEDIA_CEILING} per image or audio part. Hanging up can therefore
 *       never cost less than reading the answer to its end. Never 0 for a non-empty prompt.</li>
 * </ul>
 */
final class PromptEstimate {
    static final int IMAGE_ESTIMATE = 256;
    static final int MESSAGE_CEILING = 16;
    static final int MEDIA_CEILING = 4_096;
    /** Content parts that are media by their type: the Responses API's and the Messages API's images, files and documents. */
    private static final Set<String> MEDIA_TYPES = Set.of("input_image", "input_file", "input_audio", "image", "document");
    /** Fields of tool calls in a conversation: the Responses API's {@code arguments} and {@code output}, the Messages API's {@code input}. */
    private static final List<String> ARGUMENT_FIELDS = List.of("arguments", "output", "input");

    private PromptEstimate() {}

    /** What one body holds. */
    private static final class Size {
        long chars;
        long utf8Bytes;
        long tokenIds;
        long media;
        long messages;

        /** Adds {@code times} the figures of {@code other}. */
        void add(Size other, long times) {
            chars += other.chars * times;
            utf8Bytes += other.utf8Bytes * times;
            tokenIds += other.tokenIds * times;
            media += other.media * times;
            messages += other.messages * times;
        }

        void text(String text) {
            chars += text.length();
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < 0x80) {
                    utf8Bytes += 1;
                } else if (c < 0x800) {
                    utf8Bytes += 2;
                } else if (Character.isHighSurrogate(c)) {
                    utf8Bytes += 4;
                    i++;
                } else {
                    utf8Bytes += 3;
                }
            }
        }
    }

    /** Both figures from one walk of the body (per request: walk it once). */
    static PromptSize of(JsonObject body) {
        Size size = measure(body);
        return new PromptSize(size.messages * 4 + (size.chars + 3) / 4 + size.tokenIds + size.media * IMAGE_ESTIMATE,
                size.messages * MESSAGE_CEILING + size.utf8Bytes + size.tokenIds + size.media * MEDIA_CEILING);
    }

    /** The reservation estimate. */
    static long tokens(JsonObject body) {
        return of(body).estimate();
    }

    /** The billing ceiling: at least as many tokens as any byte-level tokenizer makes of this prompt. */
    static long ceiling(JsonObject body) {
        return of(body).ceiling();
    }

    private static Size measure(JsonObject body) {
        Size size = new Size();
        if (body.getValue("messages") instanceof JsonArray messages) {
            for (Object message : messages) {
                size.messages++;
                if (message instanceof JsonObject m) {
                    content(m.getValue("content"), size);
                    if (m.getValue("name") instanceof String name) {
                        size.text(name);
                    }
                    if (m.getValue("tool_calls") instanceof JsonArray calls) {
                        size.text(calls.encode());
                    }
                }
            }
        }
        if (body.getValue("tools") instanceof JsonArray tools) {
            size.text(tools.encode());
        }
        content(body.getValue("prompt"), size);
        content(body.getValue("input"), size); // embeddings' inputs; the Responses API's input (text or items)
        pairs(body.getValue("query"), body.getValue("documents"), size); // rerank: the query is read with each document
        pairs(body.getValue("text_1"), body.getValue("text_2"), size); // score: text_1 against each of text_2
        for (String systemPrompt : List.of("instructions", "system")) { // the Responses and the Messages API's system prompts
            if (body.getValue(systemPrompt) != null) {
                size.messages++; // a turn of the chat template
                content(body.getValue(systemPrompt), size);
            }
        }
        return size;
    }

    /**
     * Rerank's and score's inputs: a cross-encoder reads the first with each of the second, so a single first is
     * counted once per item of the second; two lists (score pairs them up) count each item once.
     */
    private static void pairs(Object first, Object second, Size size) {
        if (first == null && second == null) {
            return;
        }
        int times = first instanceof JsonArray || !(second instanceof JsonArray list) ? 1 : Math.max(1, list.size());
        Size once = new Size();
        content(first, once); // measured once, counted as often as it is read: no walk per document
        size.add(once, times);
        content(second, size);
    }

    /** A string, token ids, or an array of strings, token-id arrays or content parts. */
    private static void content(Object value, Size size) {
        switch (value) {
            case String text -> size.text(text);
            case Number ignored -> size.tokenIds++;
            case JsonArray parts -> parts.forEach(part -> content(part, size));
            case JsonObject part -> {
                if (part.getValue("text") instanceof String text) {
                    size.text(text);
                } else if (part.containsKey("image_url") || part.containsKey("input_audio") || part.containsKey("audio_url")
                        || part.containsKey("video_url") || part.getValue("type") instanceof String type && MEDIA_TYPES.contains(type)) {
                    size.media++;
                } else if (part.containsKey("content")) {
                    if (part.containsKey("role")) {
                        size.messages++; // a Responses API input message: a turn of the chat template
                    }
                    content(part.getValue("content"), size); // a Responses API input item, a Messages API tool result
                }
                for (String field : ARGUMENT_FIELDS) { // a tool call's arguments or input, a tool's output
                    switch (part.getValue(field)) {
                        case String text -> size.text(text);
                        case JsonObject object -> size.text(object.encode());
                        case JsonArray parts -> content(parts, size);
                        case null, default -> { }
                    }
                }
            }
            case null, default -> { }
        }
    }

    /** The first {@code length} characters of the prompt text: the affinity key when no session is named. */
    static String prefix(JsonObject body, int length) {
        var text = new StringBuilder();
        if (body.getValue("messages") instanceof JsonArray messages) {
            for (Object message : messages) {
                if (message instanceof JsonObject m && m.getValue("content") instanceof String content) {
                    text.append(content).append('\n');
                }
                if (text.length() >= length) {
                    break;
                }
            }
        } else if (body.getValue("prompt") instanceof String prompt) {
            text.append(prompt);
        } else if (body.getValue("input") instanceof String input) {
            text.append(input);
        }
        return text.length() > length ? text.substring(0, length) : text.toString();
    }
}
