package dev.tollgate.gateway.surface;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fields that decide metering: a type the gateway would not meter as the server reads it is refused. */
class MeteredFieldsTest {
    private static final long CEILING = 32_768;

    private static MeteredFields read(String json) throws MeteredFields.Invalid {
        return MeteredFields.read(new JsonObject(json), CEILING);
    }

    private static void refused(String json, String param) {
        assertThatThrownBy(() -> read(json)).isInstanceOfSatisfying(MeteredFields.Invalid.class, e -> {
            assertThat(e.error().status()).isEqualTo(400);
            assertThat(e.error().param()).isEqualTo(param);
        });
    }

    @Test
    void aStreamFlagThatIsNotABooleanIsRefusedNotRelayedUnmetered() {
        refused("{\"stream\":\"true\"}", "stream");
        refused("{\"stream\":1}", "stream");
        refused("{\"stream\":true,\"stream_options\":\"yes\"}", "stream_options");
        refused("{\"stream\":true,\"stream_options\":{\"include_usage\":\"true\"}}", "stream_options.include_usage");
    }

    @Test
    void nullAndAbsentMeanTheDefaults() throws Exception {
        assertThat(read("{\"stream\":null,\"stream_options\":null,\"max_tokens\":null,\"n\":null}"))
                .isEqualTo(new MeteredFields(false, false, 0, 1));
        assertThat(read("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}")).isEqualTo(new MeteredFields(true, true, 0, 1));
    }

    @Test
    void tokenLimitsThatDodgeTheCeilingOrTheReservationAreRefused() {
        refused("{\"max_tokens\":\"1000000\"}", "max_tokens");
        refused("{\"max_completion_tokens\":0,\"max_tokens\":1000000}", "max_tokens");
        refused("{\"max_completion_tokens\":null,\"max_tokens\":1000000}", "max_tokens");
        refused("{\"max_tokens\":100.5}", "max_tokens");
        refused("{\"max_tokens\":-1}", "max_tokens");
        refused("{\"max_tokens\":99999999999999999999999}", "max_tokens");
    }

    @Test
    void theReservationTakesTheLargerLimitForEveryGeneratedChoice() throws Exception {
        assertThat(read("{\"max_completion_tokens\":100,\"max_tokens\":300}").reservedCompletionTokens()).isEqualTo(300);
        assertThat(read("{\"max_completion_tokens\":300,\"max_tokens\":100}").reservedCompletionTokens()).isEqualTo(300);
        assertThat(read("{\"max_tokens\":100,\"n\":4}").reservedCompletionTokens()).isEqualTo(400);
        assertThat(read("{\"max_tokens\":100,\"n\":2,\"best_of\":5}").reservedCompletionTokens()).isEqualTo(500);
        assertThat(read("{\"max_tokens\":" + CEILING + "}").reservedCompletionTokens()).isEqualTo(CEILING);
        assertThat(read("{\"max_completion_tokens\":0,\"max_tokens\":700}").reservedCompletionTokens()).isEqualTo(700);
        refused("{\"max_tokens\":100,\"n\":3,\"best_of\":2}", "best_of");
        refused("{\"n\":0}", "n");
        refused("{\"n\":\"4\"}", "n");
        refused("{\"n\":1000}", "n");
    }
}
