package dev.tollgate.gateway.metering;

import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.testkit.upstream.Cassettes;
import dev.tollgate.testkit.upstream.FakeBehaviour;
import dev.tollgate.testkit.upstream.FakeUpstream;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StreamMeterTest {

    private static StreamMeter meter(byte[] stream) {
        var meter = new StreamMeter();
        new SseScanner(64 * 1024, meter::onData).feed(stream);
        return meter;
    }

    @Test
    void aRecordedOpenAiChatStreamCountsItsContentChunks() {
        StreamMeter meter = meter(Cassettes.load("chat-streaming").responseBody().getBytes(StandardCharsets.UTF_8));

        assertThat(meter.contentChunks()).isEqualTo(48);
        assertThat(meter.done()).isTrue();
        assertThat(meter.upstreamUsage()).isEmpty();
        assertThat(meter.malformedEvents()).isZero();
    }

    @Test
    void aRecordedOpenAiCompletionStreamCountsItsTextChunks() {
        StreamMeter meter = meter(Cassettes.load("completion-streaming").responseBody().getBytes(StandardCharsets.UTF_8));

        assertThat(meter.contentChunks()).isEqualTo(25);
    }

    @Test
    void theFakeUpstreamsStreamMetersToExactlyTheUsageItReports() throws Exception {
        try (var upstream = FakeUpstream.start(0, List.of("fake-chat"), FakeBehaviour.DEFAULT.withCompletionTokens(37))) {
            String body = "{\"model\":\"fake-chat\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Count my tokens, please.\"}]}";
            byte[] stream = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(upstream.baseUrl() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray()).body();

            StreamMeter meter = meter(stream);

            assertThat(meter.contentChunks()).isEqualTo(37);
            assertThat(meter.upstreamUsage()).contains(new TokenUsage(6 + 3 + 3, 37, 0));
            assertThat(meter.sawUsageOnlyChunk()).isTrue();
        }
    }

    @Test
    void wellFormedUtf8IsToldFromEveryMalformedShape() {
        assertThat(StreamMeter.wellFormedUtf8("ascii {\"a\":1}".getBytes(StandardCharsets.UTF_8), 0, 13)).isTrue();
        byte[] text = "Grüße 👋 ✓".getBytes(StandardCharsets.UTF_8);
        assertThat(StreamMeter.wellFormedUtf8(text, 0, text.length)).isTrue();
        assertThat(StreamMeter.wellFormedUtf8(text, 0, 3)).as("cut inside ü").isFalse();
        for (int[] bad : new int[][] {{0xFF}, {0xC0, 0x80}, {0xC1, 0xBF}, {0xE0, 0x80, 0x80}, {0xED, 0xA0, 0x80}, {0xF0, 0x80, 0x80, 0x80},
                {0xF4, 0x90, 0x80, 0x80}, {0xF5, 0x80, 0x80, 0x80}, {0x80}, {0xC3, 0x28}, {0xE2, 0x82}}) {
            byte[] bytes = new byte[bad.length];
            for (int i = 0; i < bad.length; i++) {
                bytes[i] = (byte) bad[i];
            }
            assertThat(StreamMeter.wellFormedUtf8(bytes, 0, bytes.length)).as(Arrays.toString(bad)).isFalse();
            for (int ascii : new int[]{7, 8, 9, 16, 23}) { // past the eight-bytes-at-a-time run, at every alignment
                byte[] after = new byte[ascii + bytes.length + ascii];
                Arrays.fill(after, (byte) 'a');
                System.arraycopy(bytes, 0, after, ascii, bytes.length);
                assertThat(StreamMeter.wellFormedUtf8(after, 0, after.length)).as(ascii + " ASCII, " + Arrays.toString(bad)).isFalse();
                assertThat(StreamMeter.wellFormedUtf8(after, 1, after.length - 1)).as(ascii + " ASCII from 1, " + Arrays.toString(bad)).isFalse();
                assertThat(StreamMeter.wellFormedUtf8(after, 0, ascii)).as("the ASCII before it alone").isTrue();
            }
        }
        byte[] longText = ("{\"content\":\"" + "Grüße 👋 ✓ ".repeat(9) + "\"}").getBytes(StandardCharsets.UTF_8);
        assertThat(StreamMeter.wellFormedUtf8(longText, 0, longText.length)).isTrue();
    }

    /**
     * The thread's one parser, past the events after which it is renewed, with every kind of event it must hand
     * back to a parser of the event's own between well-formed ones: after each event the same answers as the
     * tree-based reader.
     */
    @Test
    void oneParserReadsALongStreamAndHandsBackWhatItCannotReadWholeAndAlone() {
        List<String> oddOnes = List.of(
                "{\"choices\":[{\"delta\":{\"content\":\"cut",                      // ends inside a string
                "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]",                   // ends inside the object
                "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]} {\"choices\":[]}", // a second value after the first
                "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}  \n",             // whitespace after it
                "  {\"choices\":[{\"text\":\"x\"}]}",                               // whitespace before it
                "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}garbage",            // not JSON after it
                "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],}",                  // refused by the parser
                "[1,2]", "42", "not json", "",
                "{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":2}},\"choices\":[]}",
                "{\"choices\":{\"a\":{\"delta\":{\"content\":\"x\"}},\"a\":{\"text\":\"\"}}}",   // an object for choices
                "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"t\"}]}}],\"usage\":null}",
                "{\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\"}}]}",                 // vLLM's reasoning
                "{\"choices\":[{\"delta\":{\"reasoning\":\"so\",\"content\":\"\"}}]}",           // the newer name
                "{\"choices\":[{\"delta\":{\"reasoning\":\"so\",\"content\":\"x\"}}]}",          // both: answer
                "{\"choices\":[{\"delta\":{\"reasoning\":\"\",\"reasoning_content\":null}}]}",     // neither
                "{\"f" + "i".repeat(40) + "\":1,\"choices\":[{\"delta\":{\"content\":\"new names\"}}]}");
        var meter = new StreamMeter();
        var reference = new TreeStreamMeter();
        int events = 3 * StreamParser.EVENTS_PER_PARSER + 17;
        for (int i = 0; i < events; i++) {
            String data = i % 7 == 3 ? oddOnes.get(i / 7 % oddOnes.size())
                    : "{\"id\":\"c" + i + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t" + i + "\"},\"finish_reason\":null}]}";
            byte[] bytes = ("xx" + data + "yy").getBytes(StandardCharsets.UTF_8);
            meter.onData(bytes, 2, bytes.length - 4);
            reference.onData(data);
            assertThat(meter.contentChunks()).as("content chunks after %s", data).isEqualTo(reference.contentChunks());
            assertThat(meter.reasoningChunks()).as("reasoning chunks after %s", data).isEqualTo(reference.reasoningChunks());
            assertThat(meter.malformedEvents()).as("malformed after %s", data).isEqualTo(reference.malformedEvents());
            assertThat(meter.upstreamUsage()).as("usage after %s", data).isEqualTo(reference.upstreamUsage());
            assertThat(meter.sawUsageOnlyChunk()).as("usage-only after %s", data).isEqualTo(reference.sawUsageOnlyChunk());
        }
        assertThat(meter.contentChunks()).isGreaterThan(events * 6L / 7);
        assertThat(meter.upstreamUsage()).contains(new TokenUsage(7, 3, 2));
    }

    @Test
    void reasoningDeltasAreOutputAndCountedApart() {
        var meter = new StreamMeter();
        for (String data : List.of("{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Let\"}}]}",
                "{\"choices\":[{\"delta\":{\"reasoning\":\" me\"}}]}", "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}")) {
            byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
            meter.onData(bytes, 0, bytes.length);
        }
        assertThat(meter.contentChunks()).as("a cut stream bills the thinking it delivered").isEqualTo(3);
        assertThat(meter.reasoningChunks()).isEqualTo(2);
    }

    @Test
    void theUsageChunkGivesTheReasoningPartOfTheCompletion() {
        var meter = new StreamMeter();
        byte[] bytes = ("{\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":30,\"completion_tokens_details\":"
                + "{\"audio_tokens\":0,\"reasoning_tokens\":24},\"prompt_tokens_details\":{\"cached_tokens\":2}}}").getBytes(StandardCharsets.UTF_8);
        meter.onData(bytes, 0, bytes.length);
        assertThat(meter.upstreamUsage()).contains(new TokenUsage(7, 30, 2, 0, 24, 0, 0));
    }

    /** Streams of one event loop share its parser: one stream's cut event leaves nothing behind for the others. */
    @Test
    void streamsOfOneThreadShareItsParserAndACutEventOfOneLeavesNothingForAnother() {
        var first = new StreamMeter();
        var second = new StreamMeter();
        byte[] cut = "{\"choices\":[{\"delta\":{\"content\":\"cu".getBytes(StandardCharsets.UTF_8);
        byte[] whole = "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 10; i++) {
            first.onData(whole, 0, whole.length);
            first.onData(cut, 0, cut.length);
            second.onData(whole, 0, whole.length);
        }
        assertThat(first.contentChunks()).isEqualTo(10);
        assertThat(first.malformedEvents()).isEqualTo(10);
        assertThat(second.contentChunks()).isEqualTo(10);
        assertThat(second.malformedEvents()).isZero();
    }
}
