package dev.tollgate.schemas.json;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.state.StateTopicRecords;
import dev.tollgate.schemas.topic.Topics;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any bytes as a record value on any topic: the event decoder (usage.v1, ledger.events.v1,
 * quota.alerts.v1) and the state-topic check either return a value that satisfies its own
 * invariants (an event survives a round trip) or refuse with {@link EventFormatException}, which
 * sends the record to deadletter.v1. Anything else thrown would stop a consumer. Seeds: the
 * documented examples of events and state records ({@code EventDecodingFuzzTestInputs}).
 */
class EventDecodingFuzzTest {
    private static final List<String> STATE_TOPICS = List.of(Topics.TENANTS_STATE.name(), Topics.KEYS_STATE.name(),
            Topics.PRICELISTS_STATE.name(), Topics.QUOTA_STATE.name());

    @FuzzTest(maxDuration = "20s")
    void decodesOrRefusesEveryRecord(byte[] value) {
        try {
            CloudEvent<?> event = EventCodec.decode(value);
            assertThat(EventCodec.decode(EventCodec.encode(event))).isEqualTo(event);
        } catch (EventFormatException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
        for (String topic : STATE_TOPICS) {
            try {
                // The key check comes after decoding: a fixed key leaves all of the decoding to the fuzzer.
                assertThat(StateTopicRecords.decode(topic, "acme", value)).isNotNull();
            } catch (EventFormatException refused) {
                assertThat(refused.getMessage()).isNotBlank();
            }
        }
    }
}
