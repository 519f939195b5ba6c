package dev.tollgate.schemas.ledger;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.usage.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LimitsTest {

    @Test
    void limitsWrittenBeforeSchedulingExistedDecodeWithoutAClassOrWeight() throws Exception {
        Limits old = EventCodec.mapper().readValue("{\"requestsPerMinute\":60,\"maxConcurrentRequests\":8}", Limits.class);
        assertThat(old).isEqualTo(new Limits(60L, null, null, null, null, 8L));
        assertThat(old.priorityClass()).isNull();
        assertThat(old.queueWeight()).isNull();
    }

    @Test
    void aClassAndWeightRoundTrip() throws Exception {
        Limits limits = new Limits(null, null, null, null, null, null, "interactive", 3);
        String json = EventCodec.mapper().writeValueAsString(limits);
        assertThat(json).isEqualTo("{\"priorityClass\":\"interactive\",\"queueWeight\":3}");
        assertThat(EventCodec.mapper().readValue(json, Limits.class)).isEqualTo(limits);
    }

    @Test
    void aClassIsAShortLowerCaseNameAndAWeightIsBounded() {
        assertThatThrownBy(() -> new Limits(null, null, null, null, null, null, "Interactive", null))
                .hasMessageContaining("priorityClass must be 1 to 32 lower-case letters");
        assertThatThrownBy(() -> new Limits(null, null, null, null, null, null, "x".repeat(33), null))
                .hasMessageContaining("priorityClass");
        assertThatThrownBy(() -> new Limits(null, null, null, null, null, null, null, 0)).hasMessageContaining("queueWeight");
        assertThatThrownBy(() -> new Limits(null, null, null, null, null, null, null, 1_001)).hasMessageContaining("queueWeight");
    }

    @Test
    void anEndpointListNamesEndpointsAndAllowsOnlyThoseAndNoListAllowsEvery() throws Exception {
        Limits chatOnly = new Limits(null, null, null, null, null, null, null, null, List.of("chat.completions", "responses"));
        assertThat(chatOnly.allows(Endpoint.CHAT_COMPLETIONS)).isTrue();
        assertThat(chatOnly.allows(Endpoint.RESPONSES)).isTrue();
        assertThat(chatOnly.allows(Endpoint.AUDIO_TRANSCRIPTIONS)).isFalse();
        assertThat(new Limits(null, null, null, null, null, null, null, null, List.of()).allows(Endpoint.EMBEDDINGS)).isFalse();
        assertThat(Limits.NONE.allows(Endpoint.AUDIO_TRANSLATIONS)).isTrue();
        String json = EventCodec.mapper().writeValueAsString(chatOnly);
        assertThat(json).isEqualTo("{\"endpoints\":[\"chat.completions\",\"responses\"]}");
        assertThat(EventCodec.mapper().readValue(json, Limits.class)).isEqualTo(chatOnly);
        assertThat(EventCodec.mapper().writeValueAsString(Limits.NONE)).as("absent, as before").isEqualTo("{}");
        assertThatThrownBy(() -> new Limits(null, null, null, null, null, null, null, null, List.of("inference")))
                .as("a scope that is not one endpoint").hasMessageContaining("endpoints must name endpoints");
    }
}
