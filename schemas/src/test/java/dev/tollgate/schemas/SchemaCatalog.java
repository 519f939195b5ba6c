package dev.tollgate.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.tollgate.schemas.event.EventType;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Loads the committed JSON Schemas (draft 2020-12) from the classpath and validates documents. */
final class SchemaCatalog {
    static final String BASE = "https://schemas.tollgate.dev/v1/";
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            builder -> builder.schemaMappers(mappers -> mappers.mapPrefix(BASE, "classpath:schemas/v1/")));
    private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
            .formatAssertionsEnabled(true).build();

    private SchemaCatalog() {}

    static JsonSchema schema(String relativePath) {
        return FACTORY.getSchema(SchemaLocation.of(BASE + relativePath), CONFIG);
    }

    static JsonSchema dataSchema(EventType type) {
        return schema(type.dataSchemaResource().substring("/schemas/v1/".length()));
    }

    /** Validation errors of a whole event: the envelope, then {@code data} against its type's schema. */
    static List<String> validateEvent(JsonNode event) {
        var errors = new ArrayList<String>();
        addAll(errors, "envelope", schema("cloudevent.schema.json").validate(event));
        String type = event.path("type").asText();
        if (EventType.isKnown(type)) {
            addAll(errors, "data", dataSchema(EventType.fromTypeName(type)).validate(event.path("data")));
        } else {
            errors.add("unknown type " + type);
        }
        return errors;
    }

    static List<String> validate(String relativePath, JsonNode document) {
        var errors = new ArrayList<String>();
        addAll(errors, relativePath, schema(relativePath).validate(document));
        return errors;
    }

    private static void addAll(List<String> errors, String where, Set<ValidationMessage> messages) {
        messages.forEach(m -> errors.add(where + ": " + m.getMessage()));
    }
}
