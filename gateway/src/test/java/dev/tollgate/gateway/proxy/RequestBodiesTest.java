package dev.tollgate.gateway.proxy;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestBodiesTest {

    @Test
    void aNormalBodyParses() throws Exception {
        assertThat(RequestBodies.parse(Buffer.buffer("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .getString("model")).isEqualTo("m");
    }

    @Test
    void deepNestingIsRefusedBeforeItCostsMuch() {
        String deep = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);

        assertThatThrownBy(() -> RequestBodies.parse(Buffer.buffer(deep)))
                .isInstanceOf(RequestBodies.InvalidBody.class).hasMessageContaining("nested deeper than 64");
    }

    @Test
    void notAnObjectNotJsonAndEmptyAreRefusedWithAClearMessage() {
        assertThatThrownBy(() -> RequestBodies.parse(Buffer.buffer("[1,2]"))).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> RequestBodies.parse(Buffer.buffer("{\"model\":"))).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> RequestBodies.parse(Buffer.buffer(new byte[] {(byte) 0xC3, (byte) 0x28})))
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> RequestBodies.parse(Buffer.buffer(""))).hasMessageContaining("empty");
    }
}
