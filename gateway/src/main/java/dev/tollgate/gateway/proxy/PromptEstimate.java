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
