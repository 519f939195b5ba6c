package dev.tollgate.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The units of ADR 0030 are optional v1 fields: events and price lists written before them decode with
 * nothing new and encode byte for byte as before; events and lists with them validate and round-trip.
 */
class UsageUnitsEvolutionTest {

    @Test
    void aTerminalEventWrittenBeforeTheNewUnitsHasNoneAndEncodesAsBefore() {
        byte[] golden = Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED);
        CloudEvent<EventData> event = EventCodec.decode(golden);
        TokenUsage usage = ((RequestFinished) event.data()).usage();

        assertThat(usage).isEqualTo(new TokenUsage(409, 213, 256));
        assertThat(usage.cacheWritePromptTokens() + usage.reasoningTokens() + usage.audioSeconds() + usage.documents()).isZero();
        JsonNode encodedUsage = Examples.tree(EventCodec.encode(event)).path("data").path("usage");
        assertThat(fieldNames(encodedUsage)).containsExactly("promptTokens", "completionTokens", "cachedPromptTokens");
    }

    @Test
    void aTerminalEventWithEveryNewUnitValidatesAndRoundTrips() {
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        ObjectNode usage = (ObjectNode) tree.path("data").path("usage");
        usage.put("cacheWritePromptTokens", 100).put("reasoningTokens", 150).put("audioSeconds", 7).put("documents", 3);
        ((ObjectNode) tree.path("data")).put("endpoint", "MESSAGES");

        assertThat(SchemaCatalog.validateEvent(tree)).isEmpty();
        CloudEvent<EventData> event = EventCodec.decode(Examples.bytes(tree));
        assertThat(((RequestFinished) event.data()).usage()).isEqualTo(new TokenUsage(409, 213, 256, 100, 150, 7, 3));
        assertThat(Examples.tree(EventCodec.encode(event))).isEqualTo(Examples.tree(Examples.bytes(tree)));
    }

    @Test
    void streamedReasoningIsOptionalOnBothEventsAndRoundTrips() {
        ObjectNode delta = Examples.tree(Examples.eventBytes(EventType.USAGE_TOKENS_STREAMED));
        assertThat(((TokensStreamed) EventCodec.decode(Examples.bytes(delta)).data()).reasoning()).isZero();
        long completion = delta.path("data").path("completionTokens").asLong();
        ((ObjectNode) delta.path("data")).put("reasoningTokens", completion);
        ObjectNode done = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        ((ObjectNode) done.path("data")).put("reasoningTokensStreamed", 100);

        for (ObjectNode tree : List.of(delta, done)) {
            assertThat(SchemaCatalog.validateEvent(tree)).isEmpty();
            assertThat(Examples.tree(EventCodec.encode(EventCodec.decode(Examples.bytes(tree))))).isEqualTo(Examples.tree(Examples.bytes(tree)));
        }
        assertThat(((TokensStreamed) EventCodec.decode(Examples.bytes(delta)).data()).reasoning()).isEqualTo(completion);
        assertThat(((RequestFinished) EventCodec.decode(Examples.bytes(done)).data()).reasoningStreamed()).isEqualTo(100);
        ((ObjectNode) done.path("data")).put("reasoningTokensStreamed", 193);
        assertThatThrownBy(() -> EventCodec.decode(Examples.bytes(done))).as("more than was streamed").hasMessageContaining("reasoningTokensStreamed");
    }

    @Test
    void impossibleUnitsAreRefused() {
        assertThatThrownBy(() -> new TokenUsage(409, 213, 256, 154, 0, 0, 0)).hasMessageContaining("cacheWritePromptTokens");
        assertThatThrownBy(() -> new TokenUsage(409, 213, 256, 0, 214, 0, 0)).hasMessageContaining("reasoningTokens");
        assertThatThrownBy(() -> new TokenUsage(409, 213, 256, 0, 0, -1, 0)).hasMessageContaining("audioSeconds");
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.USAGE_REQUEST_COMPLETED));
        ((ObjectNode) tree.path("data").path("usage")).put("documents", -2);
        assertThat(SchemaCatalog.validateEvent(tree)).isNotEmpty();
    }

    @Test
    void aPriceListWrittenBeforeTheNewUnitsHasNoneAndEncodesAsBefore() {
        byte[] golden = Examples.eventBytes(EventType.LEDGER_PRICELIST_PUBLISHED);
        CloudEvent<EventData> event = EventCodec.decode(golden);
        ModelPrice price = ((PriceListPublished) event.data()).prices().getFirst();

        assertThat(price).isEqualTo(new ModelPrice("llama-3.1-8b-instruct", 150_000, 75_000, 600_000));
        assertThat(Examples.tree(EventCodec.encode(event))).isEqualTo(Examples.tree(golden));
    }

    @Test
    void aPriceListWithEveryNewUnitValidatesAndRoundTrips() {
        ObjectNode tree = Examples.tree(Examples.eventBytes(EventType.LEDGER_PRICELIST_PUBLISHED));
        ((ObjectNode) ((ArrayNode) tree.path("data").path("prices")).get(0))
                .put("cacheWriteInputMicrosPerMillionTokens", 187_500).put("reasoningMicrosPerMillionTokens", 900_000)
                .put("audioMicrosPerMillionSeconds", 100_000_000).put("documentMicrosPerMillionDocuments", 2_000_000_000L)
                .put("requestMicrosPerMillionRequests", 50_000_000);

        assertThat(SchemaCatalog.validateEvent(tree)).isEmpty();
        CloudEvent<EventData> event = EventCodec.decode(Examples.bytes(tree));
        assertThat(((PriceListPublished) event.data()).prices().getFirst()).isEqualTo(new ModelPrice("llama-3.1-8b-instruct", 150_000,
                75_000, 600_000, 187_500L, 900_000L, 100_000_000L, 2_000_000_000L, 50_000_000L));
        assertThat(Examples.tree(EventCodec.encode(event))).isEqualTo(Examples.tree(Examples.bytes(tree)));
    }

    @Test
    void theSchemaNamesEveryEndpointAGatewaySends() {
        JsonNode endpoints = Examples.tree(Examples.read("/schemas/v1/common.schema.json")).path("$defs").path("endpoint").path("enum");
        var named = new ArrayList<String>();
        endpoints.forEach(value -> named.add(value.asText()));

        assertThat(named).containsExactlyElementsOf(Arrays.stream(Endpoint.values()).map(Endpoint::name).toList());
    }

    private static List<String> fieldNames(JsonNode node) {
        var names = new ArrayList<String>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
