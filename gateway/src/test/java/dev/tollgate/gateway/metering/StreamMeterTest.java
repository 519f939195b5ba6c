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
        }
    }
}
