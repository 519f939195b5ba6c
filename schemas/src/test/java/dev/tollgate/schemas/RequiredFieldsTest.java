package dev.tollgate.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A missing required field is rejected with a message that names it. The required fields are read
 * from the JSON Schemas, so the Java records and the schemas cannot drift apart unnoticed.
 */
class RequiredFieldsTest {

    /** Every (event type, required data field) pair, including required fields of nested objects. */
    static Stream<Arguments> requiredDataFields() {
        var cases = new ArrayList<Arguments>();
        Examples.eventTypes().forEach(type -> {
            JsonNode schema = SchemaCatalog.dataSchema(type).getSchemaNode();
            JsonNode example = Examples.tree(Examples.eventBytes(type)).get("data");
            collect(type, schema, example, List.of(), cases);
        });
        return cases.stream();
    }

    private static void collect(EventType type, JsonNode schema, JsonNode example, List<String> path,
                                List<Arguments> cases) {
        for (JsonNode required : schema.path("required")) {
            var fieldPath = new ArrayList<>(path);
            fieldPath.add(required.asText());
            cases.add(Arguments.of(type, fieldPath));
        }
        schema.path("properties").fields().forEachRemaining(property -> {
            JsonNode nested = example.get(property.getKey());
            JsonNode ref = property.getValue().path("$ref");
            if (nested != null && nested.isObject() && ref.isTextual()) {
                var nestedPath = new ArrayList<>(path);
                nestedPath.add(property.getKey());
                String def = ref.asText().substring(ref.asText().lastIndexOf('/') + 1);
                JsonNode nestedSchema = SchemaCatalog.schema("common.schema.json").getSchemaNode().path("$defs").path(def);
                collect(type, nestedSchema, nested, nestedPath, cases);
            }
        });
    }

    @ParameterizedTest(name = "{0} without data.{1}")
    @MethodSource("requiredDataFields")
    void missingRequiredDataFieldIsRejectedNamingTheField(EventType type, List<String> fieldPath) {
        ObjectNode tree = Examples.tree(Examples.eventBytes(type));
        ObjectNode parent = (ObjectNode) tree.get("data");
        for (String step : fieldPath.subList(0, fieldPath.size() - 1)) {
            parent = (ObjectNode) parent.get(step);
        }
        String field = fieldPath.getLast();
        parent.remove(field);

        assertThat(SchemaCatalog.validateEvent(tree)).as("the schema requires it too").isNotEmpty();
        assertThatThrownBy(() -> EventCodec.decode(Examples.bytes(tree)))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("'" + field + "'");
    }

    @ParameterizedTest(name = "envelope without {0}")
    @MethodSource("requiredEnvelopeFields")
    void missingRequiredEnvelopeFieldIsRejectedNamingTheField(String field) {
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        tree.remove(field);

        assertThat(SchemaCatalog.validateEvent(tree)).isNotEmpty();
        assertThatThrownBy(() -> EventCodec.decode(Examples.bytes(tree)))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("'" + field + "'");
    }

    static Stream<String> requiredEnvelopeFields() {
        var fields = new ArrayList<String>();
        SchemaCatalog.schema("cloudevent.schema.json").getSchemaNode().path("required")
                .forEach(node -> fields.add(node.asText()));
        return fields.stream();
    }

    @Test
    void anUnknownEventTypeIsRejectedNamingTheType() {
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        tree.put("type", "dev.tollgate.usage.request.teleported.v1");

        assertThatThrownBy(() -> EventCodec.decode(Examples.bytes(tree)))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("dev.tollgate.usage.request.teleported.v1");
    }

    @Test
    void aTenantIdThatDiffersBetweenEnvelopeAndDataIsRejected() {
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        tree.put("tenantid", "someone-else");

        assertThatThrownBy(() -> EventCodec.decode(Examples.bytes(tree)))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("tenantid");
    }

    @Test
    void moreStreamedTokensThanTheFinalTotalIsRejected() {
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        ((ObjectNode) tree.get("data")).put("completionTokensStreamed", 10_000);

        assertThatThrownBy(() -> EventCodec.decode(Examples.bytes(tree)))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("completionTokensStreamed");
    }

    @Test
    void notJsonIsRejectedWithAFormatError() {
        assertThatThrownBy(() -> EventCodec.decode("{\"type\": ".getBytes()))
                .isInstanceOf(EventFormatException.class)
                .hasMessageContaining("not valid JSON");
    }
}
