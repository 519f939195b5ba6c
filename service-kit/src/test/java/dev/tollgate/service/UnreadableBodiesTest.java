package dev.tollgate.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A 400 about a request body names the field and the JSON type it needs, never a Java class (issue #19 item 12). */
class UnreadableBodiesTest {
    private static final ObjectMapper MAPPER = JsonMapper.builder().addModule(new JavaTimeModule()).build();

    enum Mode { HARD, SOFT }

    record Limits(Long requestsPerMinute, Mode mode) {}

    record Request(String planId, Instant effectiveFrom, Limits limits, List<Long> values, boolean backfill) {}

    private static String detailOf(String json) {
        try {
            MAPPER.readValue(json, Request.class);
            throw new AssertionError("read: " + json);
        } catch (Exception e) {
            return UnreadableBodies.describe(e);
        }
    }

    @Test
    void aValueOfTheWrongTypeNamesTheFieldAndTheJsonTypeNotAClass() {
        assertThat(detailOf("{\"limits\":{\"requestsPerMinute\":\"lots\"}}")).isEqualTo("field 'limits.requestsPerMinute' must be an integer");
        assertThat(detailOf("{\"effectiveFrom\":\"tomorrow\"}")).isEqualTo("field 'effectiveFrom' must be an ISO-8601 date-time string");
        assertThat(detailOf("{\"limits\":{\"mode\":\"MAYBE\"}}")).isEqualTo("field 'limits.mode' must be one of [HARD, SOFT]");
        assertThat(detailOf("{\"values\":[1,\"x\"]}")).isEqualTo("field 'values[1]' must be an integer");
        assertThat(detailOf("{\"planId\":{\"a\":1}}")).isEqualTo("field 'planId' must be a string");
        assertThat(detailOf("{\"backfill\":\"yes\"}")).isEqualTo("field 'backfill' must be true or false");
    }

    @Test
    void brokenJsonSaysWhere() {
        assertThat(detailOf("{\"planId\": }")).startsWith("the request body is not valid JSON (line 1, column");
    }

    @Test
    void noDetailCarriesAJavaNameAndAnOwnValidationMessagePassesThrough() {
        for (String json : List.of("{\"limits\":{\"requestsPerMinute\":\"lots\"}}", "{\"effectiveFrom\":\"tomorrow\"}", "{\"values\":{}}", "[1,2]",
                "{\"limits\":[]}", "{\"planId\": }")) {
            assertThat(detailOf(json)).as(json).doesNotContain("java.", "dev.tollgate", "Long", "Instant", "Request", "`");
        }
        assertThat(UnreadableBodies.describe(new IllegalArgumentException("missing required field 'planId'")))
                .isEqualTo("missing required field 'planId'");
        assertThat(UnreadableBodies.describe(new IllegalArgumentException("x".repeat(1_000)))).hasSize(UnreadableBodies.MAX_DETAIL);
    }
}
