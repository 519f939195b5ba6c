package dev.tollgate.bench;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

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
}
