package dev.tollgate.gateway.proxy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A cheap upper-bound-ish estimate of prompt tokens, for quota reservation and for billing only
 * when the upstream reports no usage: one token per 4 bytes of text, plus 4 per chat message.
 */
final class PromptEstimate {
    private PromptEstimate() {}

    static long tokens(JsonObject body) {
        long bytes = 0;
        long overhead = 0;
        if (body.getValue("messages") instanceof JsonArray messages) {
            for (Object message : messages) {
                overhead += 4;
                if (message instanceof JsonObject m) {
                    bytes += textBytes(m.getValue("content"));
                }
            }
        }
        bytes += textBytes(body.getValue("prompt"));
        bytes += textBytes(body.getValue("input"));
        return overhead + (bytes + 3) / 4;
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

    private static long textBytes(Object value) {
        if (value instanceof String text) {
            return text.length();
        }
        long total = 0;
        if (value instanceof JsonArray parts) {
            for (Object part : parts) {
                total += part instanceof JsonObject object ? textBytes(object.getValue("text")) : textBytes(part);
            }
        }
        return total;
    }
}
