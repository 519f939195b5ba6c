package dev.tollgate.gateway.metering;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.usage.TokenUsage;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Meters one streamed chat or text completion as its SSE events pass: counts the chunks that carry output, answer or
 * reasoning (our estimate of completion tokens while the stream runs; servers such as vLLM send one token per
 * chunk), those of them that carry reasoning only, and keeps the upstream's final usage chunk when it sends one.
 * Not thread-safe.
 *
 * <p>Runs once per token, so it reads each chunk with Jackson's streaming parser instead of
 * building a tree (the tree was the gateway's largest allocator under streaming load, BENCHMARKS.md),
 * skipping everything but {@code choices[].delta.content}, {@code choices[].delta.tool_calls},
 * {@code choices[].delta.reasoning_content}, {@code choices[].delta.reasoning}, {@code choices[].text} and {@code usage}. It reads exactly as the tree did — the last of duplicate
 * keys wins, an object in place of the {@code choices} array counts its values, anything after the
 * first JSON value is ignored, a chunk that is not JSON counts as malformed and nothing else —
 * which {@code SseMeteringFuzzTest} checks against the tree-based reader on every input.
 *
 * <p>A chunk given as bytes that is a JSON object goes to the thread's one long-lived parser (Jackson's
 * non-blocking parser, fed each event whole: {@link StreamParser}), so that a token costs no parser, no
 * buffers and no field-name strings, and a stream holds no parser either; anything that parser cannot
 * read whole and alone goes to a parser of its own as before, which then decides.
 */
public final class StreamMeter implements SseMeter {
    private static final JsonFactory FACTORY = EventCodec.mapper().getFactory();
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private long contentChunks;
    private long reasoningChunks;
    private long events;
    private long malformedEvents;
    private boolean done;
    private boolean sawUsageOnlyChunk;
    private TokenUsage upstreamUsage;
    /** What the last chunk said; reused, so that reading a chunk allocates nothing. */
    private final Chunk chunk = new Chunk();

    /** Accepts the data of one SSE event. */
    public void onData(String data) {
        if (data.equals("[DONE]")) {
            done = true;
            return;
        }
        try (JsonParser parser = FACTORY.createParser(data)) {
            apply(chunk.read(parser));
        } catch (IOException e) {
            malformedEvents++;
        }
    }

    /**
     * Accepts the data of one SSE event, {@code data[offset, offset + length)}, parsed in place. It reads
     * exactly as {@link #onData(String)} does (the text decoded as UTF-8, bad bytes replaced): bytes that
     * Jackson's byte reader could take differently (anything but well-formed UTF-8, a byte-order mark, a
     * start that looks like UTF-16 or UTF-32) and JSON it refuses go through the text reader instead, which
     * costs a copy only for such events ({@code SseMeteringFuzzTest} holds the two readers together; it
     * found a field name with a stray 0xFF byte that Jackson's byte reader read differently).
     */
    @Override
    public void onData(byte[] data, int offset, int length) {
        events++;
        if (Arrays.equals(data, offset, offset + length, DONE, 0, DONE.length)) {
            done = true;
            return;
        }
        if (plainStart(data, offset, length) && wellFormedUtf8(data, offset, length)) {
            if (StreamParser.startsWithObject(data, offset, length) && StreamParser.ofThisThread().read(data, offset, length, chunk)) {
                apply(chunk);
                return;
            }
            try (JsonParser parser = FACTORY.createParser(data, offset, length)) {
                apply(chunk.read(parser));
                return;
            } catch (IOException e) {
                // The text reader decides: it may read the event whole after replacing bad bytes.
            }
        }
        onData(new String(data, offset, length, StandardCharsets.UTF_8));
    }

    /** True when the first bytes cannot make Jackson's byte reader guess a BOM or another encoding than UTF-8. */
    private static boolean plainStart(byte[] data, int offset, int length) {
        for (int i = offset; i < offset + Math.min(4, length); i++) {
            if (data[i] == 0 || data[i] < 0 && i == offset) {
                return false;
            }
        }
        return true;
    }

    /** True when {@code data[offset, offset + length)} is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
    static boolean wellFormedUtf8(byte[] data, int offset, int length) {
        int end = offset + length;
        int i = offset;
        while (i + Long.BYTES <= end && ((long) LONGS.get(data, i) & 0x8080808080808080L) == 0) {
            i += Long.BYTES; // eight ASCII bytes at a time: most of a chunk is
        }
        while (i < end) {
            int lead = data[i] & 0xff;
            if (lead < 0x80) {
                i++;
                continue;
            }
            int continuation;
            int low = 0x80;
            int high = 0xBF;
            if (lead >= 0xC2 && lead <= 0xDF) {
                continuation = 1;
            } else if (lead >= 0xE0 && lead <= 0xEF) {
                continuation = 2;
                low = lead == 0xE0 ? 0xA0 : low; // no overlong three-byte forms
                high = lead == 0xED ? 0x9F : high; // no surrogates
            } else if (lead >= 0xF0 && lead <= 0xF4) {
                continuation = 3;
                low = lead == 0xF0 ? 0x90 : low; // no overlong four-byte forms
                high = lead == 0xF4 ? 0x8F : high; // nothing past U+10FFFF
            } else {
                return false;
            }
            if (end - i - 1 < continuation) {
                return false;
            }
            int second = data[i + 1] & 0xff;
            if (second < low || second > high) {
                return false;
            }
            for (int k = 2; k <= continuation; k++) {
                int next = data[i + k] & 0xff;
                if (next < 0x80 || next > 0xBF) {
                    return false;
                }
            }
            i += continuation + 1;
        }
        return true;
    }

    private void apply(Chunk chunk) {
        if (chunk == null) {
            return; // not an object: nothing to meter
        }
        if (chunk.hasUsage && chunk.usage.valid()) {
            upstreamUsage = chunk.usage.toTokenUsage();
        }
        if (chunk.choicesIsArray && chunk.choicesCount == 0 && chunk.hasUsage) {
            sawUsageOnlyChunk = true;
        }
        contentChunks += chunk.contentChoices;
        reasoningChunks += chunk.reasoningChoices;
    }

    /** What one chunk says, read in one pass; every field as the last of duplicate keys says it. Reused chunk after chunk. */
    static final class Chunk {
        /** False when absent or not an object. */
        boolean hasUsage;
        final Usage usage = new Usage();
        boolean choicesIsArray;
        int choicesCount;
        /** Choices that carried output: answer content, tool calls or reasoning. */
        int contentChoices;
        /** Of those, choices that carried reasoning only ({@code delta.reasoning_content} or {@code delta.reasoning}). */
        int reasoningChoices;

        /**
         * Reads the chunk from {@code parser}'s next value: this, or null when that value is not an object;
         * throws on malformed JSON.
         */
        Chunk read(JsonParser parser) throws IOException {
            JsonToken root = parser.nextToken();
            if (root != JsonToken.START_OBJECT) {
                parser.skipChildren(); // still fails on a malformed array, as the tree did
                parser.finishToken(); // and on an unterminated string
                return null;
            }
            hasUsage = false;
            choicesIsArray = false;
            choicesCount = 0;
            contentChoices = 0;
            reasoningChoices = 0;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "usage" -> {
                        hasUsage = value == JsonToken.START_OBJECT;
                        if (hasUsage) {
                            usage.read(parser);
                        } else {
                            parser.skipChildren();
                        }
                    }
                    case "choices" -> readChoices(parser, value);
                    default -> parser.skipChildren();
                }
            }
            return this;
        }

        private void readChoices(JsonParser parser, JsonToken value) throws IOException {
            choicesIsArray = value == JsonToken.START_ARRAY;
            choicesCount = 0;
            contentChoices = 0;
            reasoningChoices = 0;
            if (value == JsonToken.START_ARRAY) {
                for (JsonToken element = parser.nextToken(); element != JsonToken.END_ARRAY; element = parser.nextToken()) {
                    countChoice(parser, element);
                }
            } else if (value == JsonToken.START_OBJECT) {
                readChoicesObject(parser);
            } else {
                parser.skipChildren();
            }
        }

        /**
         * An object in place of the {@code choices} array: the tree iterated the object's values, one
         * per distinct key, the last of duplicate keys winning (a duplicate counted twice was the
         * fuzzer's first disagreement with the tree). Never sent by a real server, so a map is fine.
         */
        private void readChoicesObject(JsonParser parser) throws IOException {
            Map<String, Integer> outputByKey = new HashMap<>();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                outputByKey.put(key, choiceOutput(parser, parser.nextToken()));
            }
            choicesCount = outputByKey.size();
            contentChoices = (int) outputByKey.values().stream().filter(output -> output != NONE).count();
            reasoningChoices = (int) outputByKey.values().stream().filter(output -> output == REASONING).count();
        }

        private void countChoice(JsonParser parser, JsonToken element) throws IOException {
            choicesCount++;
            int output = choiceOutput(parser, element);
            if (output != NONE) {
                contentChoices++;
            }
            if (output == REASONING) {
                reasoningChoices++;
            }
        }

        /** What a choice or delta carries: nothing, answer content (text, content, tool calls), or reasoning only. */
        private static final int NONE = 0;
        private static final int ANSWER = 1;
        private static final int REASONING = 2;

        /** Reads one choice: {@link #NONE}, {@link #ANSWER} or {@link #REASONING}. */
        private static int choiceOutput(JsonParser parser, JsonToken element) throws IOException {
            if (element != JsonToken.START_OBJECT) {
                parser.skipChildren();
                return NONE;
            }
            int delta = NONE;
            boolean text = false;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "delta" -> delta = value == JsonToken.START_OBJECT ? deltaOutput(parser) : skip(parser, NONE);
                    case "text" -> text = nonEmptyString(parser, value);
                    default -> parser.skipChildren();
                }
            }
            return text ? ANSWER : delta;
        }

        /**
         * Inside a delta object: {@link #ANSWER} for a non-empty {@code content} string or a {@code tool_calls} array, else
         * {@link #REASONING} for a non-empty {@code reasoning_content} or {@code reasoning} string (how vLLM, SGLang and
         * DeepSeek stream a reasoning model's thinking: ADR 0030), else {@link #NONE}.
         */
        private static int deltaOutput(JsonParser parser) throws IOException {
            boolean content = false;
            boolean toolCalls = false;
            boolean reasoningContent = false;
            boolean reasoning = false;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "content" -> content = nonEmptyString(parser, value);
                    case "tool_calls" -> {
                        toolCalls = value == JsonToken.START_ARRAY;
                        parser.skipChildren();
                    }
                    case "reasoning_content" -> reasoningContent = nonEmptyString(parser, value);
                    case "reasoning" -> reasoning = nonEmptyString(parser, value);
                    default -> parser.skipChildren();
                }
            }
            return content || toolCalls ? ANSWER : reasoningContent || reasoning ? REASONING : NONE;
        }
    }

    /** A usage object's counts: -1 marks a count that is not a non-negative integer that fits a long. Reused. */
    private static final class Usage {
        long prompt;
        long completion;
        long cached;
        long reasoning;

        void read(JsonParser parser) throws IOException {
            prompt = 0;
            completion = 0;
            cached = 0;
            reasoning = 0;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "prompt_tokens" -> prompt = count(parser, value);
                    case "completion_tokens" -> completion = count(parser, value);
                    case "prompt_tokens_details" -> cached = value == JsonToken.START_OBJECT ? detail(parser, "cached_tokens") : skip(parser, 0L);
                    case "completion_tokens_details" ->
                            reasoning = value == JsonToken.START_OBJECT ? detail(parser, "reasoning_tokens") : skip(parser, 0L);
                    default -> parser.skipChildren();
                }
            }
        }

        /** The count {@code name} of a details object (0 when absent), the parser left at the object's end. */
        private static long detail(JsonParser parser, String name) throws IOException {
            long count = 0;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals(name)) {
                    count = count(parser, value);
                } else {
                    parser.skipChildren();
                }
            }
            return count;
        }

        boolean valid() {
            return prompt >= 0 && completion >= 0 && cached >= 0 && reasoning >= 0;
        }

        TokenUsage toTokenUsage() {
            return new TokenUsage(prompt, completion, Math.min(cached, prompt), 0, Math.min(reasoning, completion), 0, 0);
        }
    }

    /** As {@link UsageExtractor}: null counts 0; anything but a non-negative integer that fits a long is -1. */
    private static long count(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NULL) {
            return 0;
        }
        if (value == JsonToken.VALUE_NUMBER_INT) {
            if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                return parser.getBigIntegerValue().bitLength() < 64 && parser.getBigIntegerValue().signum() >= 0
                        ? parser.getBigIntegerValue().longValue() : -1;
            }
            long count = parser.getLongValue();
            return count >= 0 ? count : -1;
        }
        parser.skipChildren();
        return -1;
    }

    private static boolean nonEmptyString(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_STRING) {
            return parser.getTextLength() > 0;
        }
        parser.skipChildren();
        return false;
    }

    /** Skips the current value and answers {@code result}. */
    private static <T> T skip(JsonParser parser, T result) throws IOException {
        parser.skipChildren();
        return result;
    }

    /** Chunks that carried completion output so far (answer content, tool calls or reasoning). */
    @Override
    public long contentChunks() {
        return contentChunks;
    }

    @Override
    public long reasoningChunks() {
        return reasoningChunks;
    }

    /** The upstream's final usage, once its usage chunk has passed. */
    @Override
    public Optional<TokenUsage> upstreamUsage() {
        return Optional.ofNullable(upstreamUsage);
    }

    /** True once {@code [DONE]} has passed. */
    @Override
    public boolean done() {
        return done;
    }

    /** True if the stream ended with a usage-only chunk ({@code choices: []}), which a client that did not ask for usage must not see. */
    @Override
    public boolean sawUsageOnlyChunk() {
        return sawUsageOnlyChunk;
    }

    @Override
    public long events() {
        return events;
    }

    /** Events that were not JSON (passed through, not metered). */
    public long malformedEvents() {
        return malformedEvents;
    }
}
