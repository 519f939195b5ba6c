package dev.tollgate.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Golden-file compatibility: every committed v1 event example validates, parses and round-trips. */
class EventExamplesTest {

    static Stream<EventType> eventTypes() {
        return Examples.eventTypes();
    }

    @ParameterizedTest
    @MethodSource("eventTypes")
    void committedExampleValidatesAgainstItsSchema(EventType type) {
        assertThat(SchemaCatalog.validateEvent(Examples.tree(Examples.eventBytes(type)))).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("eventTypes")
    void committedExampleParsesToItsRecord(EventType type) {
        CloudEvent<EventData> event = EventCodec.decode(Examples.eventBytes(type));

        assertThat(event.eventType()).isEqualTo(type);
        assertThat(event.data()).isInstanceOf(type.dataClass());
        assertThat(event.tenantid()).isEqualTo(event.data().tenantId());
    }

    @ParameterizedTest
    @MethodSource("eventTypes")
    void encodingRoundTripsAndStaysValid(EventType type) {
        CloudEvent<EventData> parsed = EventCodec.decode(Examples.eventBytes(type));

        byte[] encoded = EventCodec.encode(parsed);

        assertThat(EventCodec.decode(encoded)).isEqualTo(parsed);
        assertThat(SchemaCatalog.validateEvent(Examples.tree(encoded))).isEmpty();
        // Nothing the example says is lost by a parse and re-encode (fields are only ever added).
        assertThat(Examples.tree(encoded)).isEqualTo(Examples.tree(Examples.eventBytes(type)));
    }

    @ParameterizedTest
    @MethodSource("eventTypes")
    void unknownFieldsAreToleratedAtEveryLevel(EventType type) {
        ObjectNode tree = Examples.tree(Examples.eventBytes(type));
        tree.put("futureextension", "x");
        ObjectNode data = (ObjectNode) tree.get("data");
        data.put("fieldFromANewerProducer", 42);
        data.putObject("nestedFromANewerProducer").put("a", true);
        data.fields().forEachRemaining(entry -> {
            if (entry.getValue().isObject()) {
                ((ObjectNode) entry.getValue()).put("alsoNew", "y");
            }
        });

        CloudEvent<EventData> parsed = EventCodec.decode(Examples.bytes(tree));

        assertThat(parsed).isEqualTo(EventCodec.decode(Examples.eventBytes(type)));
    }

    @ParameterizedTest
    @MethodSource("eventTypes")
    void everyTypeHasItsOwnExampleAndSchema(EventType type) {
        JsonNode example = Examples.tree(Examples.eventBytes(type));

        assertThat(example.path("type").asText()).isEqualTo(type.typeName());
        assertThat(EventExamplesTest.class.getResource(type.dataSchemaResource())).isNotNull();
    }
}
