package dev.tollgate.projector.stream;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.DeadLetterHeaders;
import dev.tollgate.schemas.usage.TokensStreamed;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The parse / dead-letter / deduplicate front of the projector, driven with explicit event times. */
class DeduplicationTopologyTest {
    private static final Duration HORIZON = Duration.ofHours(24);
    private static final Instant T0 = Instant.parse("2026-11-03T10:00:00Z");

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> usage;
    private TestOutputTopic<String, byte[]> out;
    private TestOutputTopic<String, byte[]> deadLetters;

    @BeforeEach
    void build() {
        var topology = new Topology();
        topology.addSource("usage", new StringDeserializer(), new ByteArrayDeserializer(), "usage");
        topology.addProcessor("parse", () -> new ParseOrDeadLetter("dedup", "dead-letters"), "usage");
        topology.addProcessor("dedup", () -> new DeduplicateByEventId("seen-ids", HORIZON), "parse");
        topology.addStateStore(DeduplicateByEventId.storeBuilder("seen-ids", HORIZON), "dedup");
        topology.addSink("dead-letters", "deadletter", new StringSerializer(),
                (topic, value) -> (byte[]) value, "parse");
        topology.addSink("out", "out", new StringSerializer(),
                (topic, value) -> EventCodec.encode((CloudEvent<?>) value), "dedup");
        var props = new Properties();
        props.put("application.id", "dedup-test");
        props.put("bootstrap.servers", "unused:9092");
        driver = new TopologyTestDriver(topology, props);
        usage = driver.createInputTopic("usage", new StringSerializer(), new ByteArraySerializer());
        out = driver.createOutputTopic("out", new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic("deadletter", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void close() {
        driver.close();
    }

    private static CloudEvent<TokensStreamed> tokens(String id, long delta) {
        return CloudEvent.withId(id, EventType.USAGE_TOKENS_STREAMED, "/gateway/gw-1", T0, "req-1", null,
                new TokensStreamed("req-1", "acme", "key-1", "m", 1, delta));
    }

    private void send(CloudEvent<?> event, Instant time) {
        usage.pipeInput("acme", EventCodec.encode(event), time);
    }

    private List<CloudEvent<EventData>> forwarded() {
        return out.readValuesToList().stream().map(EventCodec::decode).toList();
    }

    @Test
    void aRetriedEventIsCountedOnce() {
        send(tokens("e-1", 64), T0);
        send(tokens("e-1", 64), T0.plusSeconds(30));
        send(tokens("e-2", 10), T0.plusSeconds(31));

        assertThat(forwarded()).extracting(CloudEvent::id).containsExactly("e-1", "e-2");
    }

    @Test
    void aDuplicateArrivingOutOfOrderWithinTheHorizonIsStillDropped() {
        send(tokens("e-1", 64), T0.plus(Duration.ofHours(3)));
        send(tokens("e-1", 64), T0);

        assertThat(forwarded()).hasSize(1);
    }

    @Test
    void theSameIdBeyondTheHorizonIsForwardedAgainAsTheDocumentedLimit() {
        send(tokens("e-1", 64), T0);
        send(tokens("e-9", 1), T0.plus(HORIZON.multipliedBy(3)));
        send(tokens("e-1", 64), T0.plus(HORIZON.multipliedBy(3)));

        assertThat(forwarded()).extracting(CloudEvent::id).containsExactly("e-1", "e-9", "e-1");
    }

    @Test
    void aMalformedRecordGoesToTheDeadLetterTopicWithItsReasonAndThePipelineContinues() {
        usage.pipeInput("acme", "{\"type\":\"dev.tollgate.usage.tokens.streamed.v1\"}".getBytes(StandardCharsets.UTF_8), T0);
        usage.pipeInput("acme", "not json".getBytes(StandardCharsets.UTF_8), T0);
        send(tokens("e-1", 64), T0);

        List<TestRecord<String, byte[]>> dead = deadLetters.readRecordsToList();
        assertThat(dead).hasSize(2);
        Header reason = dead.getFirst().headers().lastHeader(DeadLetterHeaders.ERROR);
        assertThat(new String(reason.value(), StandardCharsets.UTF_8)).contains("'data'");
        assertThat(dead.getFirst().headers().lastHeader(DeadLetterHeaders.ORIGIN)).isNotNull();
        assertThat(new String(dead.get(1).value(), StandardCharsets.UTF_8)).isEqualTo("not json");
        assertThat(forwarded()).extracting(CloudEvent::id).containsExactly("e-1");
    }
}
