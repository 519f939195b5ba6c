package dev.tollgate.gateway.proxy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any bytes as a request body: the parser returns a JSON object or refuses with {@code InvalidBody}
 * (a 400 with a message safe to show); it never throws anything else, never overflows the stack,
 * and what it accepts is an object that re-encodes.
 * In {@code ./mvnw verify} it fuzzes for a bounded time ({@code fuzz} execution, JAZZER_FUZZ=1);
 * otherwise it replays the inputs under {@code src/test/resources/.../RequestBodiesFuzzTestInputs}.
 */
class RequestBodiesFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void parsesOrRefusesEveryBody(byte[] body) {
        try {
            JsonObject parsed = RequestBodies.parse(Buffer.buffer(body));
            assertThat(parsed.encode()).startsWith("{");
        } catch (RequestBodies.InvalidBody refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
    }
}
