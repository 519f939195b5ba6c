package dev.tollgate.ledger.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.security.AccessPolicy.Action;
import dev.tollgate.ledger.security.AccessPolicy;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.service.security.Caller;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.eventstore.DomainEventStream;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A tenant's control-plane history (its aggregate stream: tenant and key events), oldest first. */
@RestController
public class EventsController {
    private final EventStore eventStore;

    public EventsController(EventStore eventStore) {
        this.eventStore = eventStore;
    }

    /** One event of the history; {@code actor} is the subject that caused it. */
    public record HistoryEvent(String id, String type, long sequence, Instant time, String actor, Object data) {}

    public record History(String tenantId, List<HistoryEvent> events, Long nextSequence) {}

    private static final List<String> SECRET_HASH_FIELDS = List.of("secretHash", "newSecretHash");

    @GetMapping("/admin/v1/tenants/{tenantId}/events")
    public History events(@AuthenticationPrincipal Jwt jwt, @PathVariable String tenantId,
                          @RequestParam(defaultValue = "0") long fromSequence, @RequestParam(defaultValue = "100") int limit) {
        AccessPolicy.check(Caller.of(jwt), Action.READ_EVENTS, tenantId);
        if (limit < 1 || limit > 1000 || fromSequence < 0) {
            throw new LedgerException.Invalid("invalid_page", "limit must be 1-1000 and fromSequence >= 0");
        }
        var events = new ArrayList<HistoryEvent>();
        Long next = null;
        DomainEventStream stream = eventStore.readEvents(tenantId, fromSequence);
        while (stream.hasNext()) {
            DomainEventMessage<?> message = stream.next();
            if (events.size() == limit) {
                next = message.getSequenceNumber();
                break;
            }
            Object actor = message.getMetaData().get("actor");
            events.add(new HistoryEvent(message.getIdentifier(), typeName(message.getPayloadType()),
                    message.getSequenceNumber(), message.getTimestamp(), actor == null ? null : actor.toString(),
                    withoutSecretHashes(message.getPayload())));
        }
        if (events.isEmpty() && fromSequence == 0) {
            throw new LedgerException.NotFound("not_found", "no such resource");
        }
        return new History(tenantId, events, next);
    }

    /**
     * The event's data as JSON without the hashes of API key secrets (key issued, key rotated): a
     * hash is what an offline guess at a secret is checked against, and no reader of the history needs it.
     */
    private static JsonNode withoutSecretHashes(Object payload) {
        JsonNode data = EventCodec.mapper().valueToTree(payload);
        if (data instanceof ObjectNode fields) {
            fields.remove(SECRET_HASH_FIELDS);
        }
        return data;
    }

    private static String typeName(Class<?> payloadType) {
        return Arrays.stream(EventType.values()).filter(t -> t.dataClass() == payloadType)
                .map(EventType::typeName).findFirst().orElse(payloadType.getSimpleName());
    }
}
