package dev.tollgate.bench;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LoadGeneratorTest {
    @Test
    void countsOnlyChunksThatCarryContent() {
        String sse = """
                data: {"choices":[{"delta":{"role":"assistant","content":""}}]}

                data: {"choices":[{"delta":{"content":"Hel"}}]}

                data: {"choices":[{"delta":{"content":"lo"}}]}

                data: {"choices":[],"usage":{"completion_tokens":2}}

                data: [DONE]

                """;
        assertThat(LoadGenerator.contentChunks(Buffer.buffer(sse))).isEqualTo(2);
        assertThat(LoadGenerator.contentChunks(Buffer.buffer("{\"content\":"))).isZero();
    }

    @Test
    void readsEveryWholeSentStampAndSkipsOneCutByTheEndOfTheRead() {
        String sse = """
                data: {"choices":[{"delta":{"content":"Hel"}}],"x_sent_ns":123456789}

                data: {"choices":[{"delta":{"content":"lo"}}],"x_sent_ns":987}

                data: {"choices":[{"delta":{"content":"!"}}],"x_sent_ns":55""";
        List<Long> stamps = new ArrayList<>();
        LoadGenerator.sentStamps(Buffer.buffer(sse), stamps::add);
        assertThat(stamps).containsExactly(123_456_789L, 987L);
    }
}
