package dev.tollgate.gateway.proxy;

import dev.tollgate.gateway.upstream.UpstreamConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Arrays;

/**
 * The leading blocks of a prompt as prefix-aware routing sees them (ADR 0024): the messages rendered
 * in order (role, then text; image and audio parts by their URL or data), or the completion prompt,
 * cut into blocks of {@code blockChars} characters, each hashed together with everything before it
 * (64-bit FNV-1a, chained), so that two prompts share block i's hash only if they share every character
 * up to its end. Only whole blocks count, as a model server caches only whole KV blocks.
 */
public final class PromptPrefix {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private PromptPrefix() {}

    /** The chained hashes of the prompt's whole leading blocks, at most {@code maxBlocks}; empty for a short prompt. */
    public static long[] blocks(JsonObject body, UpstreamConfig.PrefixRouting routing) {
        var hasher = new Hasher(routing.blockChars(), routing.maxBlocks());
        if (body.getValue("messages") instanceof JsonArray messages) {
            for (Object message : messages) {
                if (!(message instanceof JsonObject m) || hasher.full()) {
                    break;
                }
                hasher.add(m.getValue("role") instanceof String role ? role : "").add("\n");
                renderContent(m.getValue("content"), hasher);
                hasher.add("\n");
            }
        } else if (body.getValue("prompt") instanceof String prompt) {
            hasher.add(prompt);
        } else if (body.getValue("prompt") instanceof JsonArray ids) {
            for (Object id : ids) {
                if (hasher.full()) {
                    break;
                }
                hasher.add(String.valueOf(id)).add(" ");
            }
        }
        return hasher.result();
    }

    private static void renderContent(Object content, Hasher hasher) {
        if (content instanceof String text) {
            hasher.add(text);
        } else if (content instanceof JsonArray parts) {
            for (Object part : parts) {
                if (part instanceof JsonObject p) {
                    Object value = p.getValue("text") != null ? p.getValue("text")
                            : p.getValue("image_url") instanceof JsonObject image ? image.getValue("url")
                            : p.getValue("input_audio") instanceof JsonObject audio ? audio.getValue("data") : null;
                    if (value instanceof String s) {
                        hasher.add(s);
                    }
                }
            }
        }
    }

    /** Hashes characters as they come and records the running hash at the end of each whole block. */
    private static final class Hasher {
        private final int blockChars;
        private final long[] blocks;
        private int count;
        private int inBlock;
        private long hash = FNV_OFFSET;

        Hasher(int blockChars, int maxBlocks) {
            this.blockChars = blockChars;
            this.blocks = new long[maxBlocks];
        }

        boolean full() {
            return count == blocks.length;
        }

        Hasher add(String text) {
            for (int i = 0; i < text.length() && !full(); i++) {
                char c = text.charAt(i);
                hash = (hash ^ (c & 0xff)) * FNV_PRIME;
                hash = (hash ^ (c >>> 8)) * FNV_PRIME;
                if (++inBlock == blockChars) {
                    blocks[count++] = hash;
                    inBlock = 0;
                }
            }
            return this;
        }

        long[] result() {
            return Arrays.copyOf(blocks, count);
        }
    }
}
