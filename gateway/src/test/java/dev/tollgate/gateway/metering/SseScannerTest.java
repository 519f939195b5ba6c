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
}
