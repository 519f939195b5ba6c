package dev.tollgate.gateway.metering;

import dev.tollgate.testkit.upstream.Cassettes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SseScannerTest {

    private static List<String> scan(byte[] stream, int chunkSize) {
        var events = new ArrayList<String>();
        var scanner = new SseScanner(64 * 1024, events::add);
        for (int i = 0; i < stream.length; i += chunkSize) {
            scanner.feed(stream, i, Math.min(chunkSize, stream.length - i));
        }
        return events;
    }

    @Test
    void aRecordedOpenAiStreamYieldsTheSameEventsWhateverTheChunkBoundaries() {
        byte[] stream = Cassettes.load("chat-streaming").responseBody().getBytes(StandardCharsets.UTF_8);
        List<String> whole = scan(stream, stream.length);

        assertThat(whole).hasSize(51).endsWith("[DONE]");
        for (int chunkSize : new int[] {1, 2, 3, 7, 64, 1000}) {
            assertThat(scan(stream, chunkSize)).as("chunks of " + chunkSize).isEqualTo(whole);
        }
    }

    @Test
    void crlfAndCrLineEndingsFrameLikeLf() {
        String lf = "data: a\n\ndata: b\n\n";
        assertThat(scan("data: a\r\n\r\ndata: b\r\n\r\n".getBytes(StandardCharsets.UTF_8), 1))
                .isEqualTo(scan(lf.getBytes(StandardCharsets.UTF_8), 1)).containsExactly("a", "b");
        assertThat(scan("data: a\r\rdata: b\r\r".getBytes(StandardCharsets.UTF_8), 1)).containsExactly("a", "b");
    }

    @Test
    void multiLineDataIsJoinedAndOtherFieldsAndCommentsAreIgnored() {
        String stream = ": keep-alive\nevent: message\nid: 7\ndata: {\"a\":\ndata: 1}\nretry: 10\n\n";

        assertThat(scan(stream.getBytes(StandardCharsets.UTF_8), 5)).containsExactly("{\"a\":\n1}");
    }

    @Test
    void anEventWithoutTheFinalBlankLineIsNotDispatched() {
        assertThat(scan("data: complete\n\ndata: partial\n".getBytes(StandardCharsets.UTF_8), 4))
                .containsExactly("complete");
    }

    @Test
    void multiByteCharactersSplitAcrossChunksSurvive() {
        byte[] stream = "data: {\"content\":\"Grüße 👋\"}\n\n".getBytes(StandardCharsets.UTF_8);

        assertThat(scan(stream, 1)).containsExactly("{\"content\":\"Grüße 👋\"}");
    }

    @Test
    void anOversizedEventIsRefusedInsteadOfBuffered() {
        var scanner = new SseScanner(16, event -> { });
        byte[] stream = ("data: " + "x".repeat(32) + "\n\n").getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> scanner.feed(stream)).isInstanceOf(SseScanner.EventTooLargeException.class);
    }

    /** What a proxy does with the positions: forward the stream's bytes with one event cut out. */
    private static String withoutEvent(String stream, String dropped, int chunkSize) {
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        long[] range = new long[2];
        var scanner = new SseScanner(64 * 1024, (data, offset, length, start, end) -> {
            if (new String(data, offset, length, StandardCharsets.UTF_8).equals(dropped)) {
                range[0] = start;
                range[1] = end;
            }
        });
        for (int i = 0; i < bytes.length; i += chunkSize) {
            scanner.feed(bytes, i, Math.min(chunkSize, bytes.length - i));
        }
        assertThat(scanner.boundary()).as("a stream that ends with a blank line is whole").isEqualTo(bytes.length);
        assertThat(scanner.position()).isEqualTo(bytes.length);
        return new String(bytes, 0, (int) range[0], StandardCharsets.UTF_8)
                + new String(bytes, (int) range[1], bytes.length - (int) range[1], StandardCharsets.UTF_8);
    }

    @Test
    void eachEventSaysWhereItLiesSoThatItCanBeCutOutOfTheBytesWhateverTheChunks() {
        String lf = ": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\ndata: {\"usage\":2}\n\ndata: [DONE]\n\n";
        for (int chunkSize : new int[] {1, 2, 5, 1000}) {
            assertThat(withoutEvent(lf, "{\"usage\":2}", chunkSize)).as("chunks of " + chunkSize)
                    .isEqualTo(": keep-alive\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n");
        }
        String crlf = "data: {\"a\":1}\r\n\r\ndata: {\"usage\":2}\r\n\r\ndata: [DONE]\r\n\r\n";
        for (int chunkSize : new int[] {2, 1000}) {
            assertThat(withoutEvent(crlf, "{\"usage\":2}", chunkSize)).as("CRLF, chunks of " + chunkSize)
                    .isEqualTo("data: {\"a\":1}\r\n\r\ndata: [DONE]\r\n\r\n");
        }
        // A read that ends between the CR and the LF of the blank line: the event was reported before the LF
        // arrived, so the LF stays, an empty line that ends nothing.
        assertThat(withoutEvent(crlf, "{\"usage\":2}", 1)).isEqualTo("data: {\"a\":1}\r\n\r\n\ndata: [DONE]\r\n\r\n");
    }

    @Test
    void theBoundaryStaysBeforeAnEventThatHasNotEnded() {
        var scanner = new SseScanner(64 * 1024, event -> { });
        byte[] bytes = "data: a\n\ndata: b".getBytes(StandardCharsets.UTF_8);
        scanner.feed(bytes);
        assertThat(scanner.boundary()).isEqualTo("data: a\n\n".length());
        assertThat(scanner.position()).isEqualTo(bytes.length);
    }
}
