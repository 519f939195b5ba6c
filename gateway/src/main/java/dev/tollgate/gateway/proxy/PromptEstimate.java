package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.metering.TerminalUsage.PromptSize;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What the gateway can say about a prompt's size without the model's tokenizer, from the request
 * body: the text (messages' content parts, tool calls, a completion prompt, embedding inputs, the
 * tool definitions), token ids given as numbers (one token each, exactly), images and audio parts.
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

    private PromptEstimate() {}

    /** What one body holds. */
    private static final class Size {
        long chars;
        long utf8Bytes;
        long tokenIds;
        long media;
        long messages;

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
        content(body.getValue("input"), size);
        return size;
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
                        || part.containsKey("video_url")) {
                    size.media++;
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
