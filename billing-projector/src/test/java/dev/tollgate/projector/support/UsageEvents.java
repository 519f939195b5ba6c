package dev.tollgate.projector.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/** Usage and ledger-state records as the gateway and the ledger write them, for projector tests. */
public final class UsageEvents {
    private UsageEvents() {}

    public static CloudEvent<TokensStreamed> streamed(String id, String tenant, String key, String model, Instant time, long tokens) {
        return CloudEvent.withId(id, EventType.USAGE_TOKENS_STREAMED, "/gateway/test", time, "r-" + id, null,
                new TokensStreamed("r-" + id, tenant, key, model, 1, tokens));
    }

    /** A completed request: {@code prompt} tokens of which {@code cached} cached, {@code completion} of which {@code streamed} already counted. */
    public static CloudEvent<RequestFinished> completed(String id, String tenant, String key, String model, Instant time, long prompt,
                                                        long cached, long completion, long streamed) {
        return CloudEvent.withId(id, EventType.USAGE_REQUEST_COMPLETED, "/gateway/test", time, "r-" + id, null,
                new RequestFinished("r-" + id, tenant, key, model, Endpoint.CHAT_COMPLETIONS, "pool/e1",
                        new TokenUsage(prompt, completion, cached), streamed, 100, 10L, null, null, null));
    }

    public static byte[] tenant(String tenant, String plan, String zone) {
        return EventCodec.encodeState(new TenantState(tenant, tenant, TenantState.Status.ACTIVE, plan, zone, "USD",
                new Limits(null, null, null, null, null, null), null, null, 1, Instant.parse("2026-01-01T00:00:00Z")));
    }

    public static PriceListPublished priceList(String id, String plan, Instant effectiveFrom, String model, long input, long cached,
                                               long output) {
        return new PriceListPublished(id, plan, "USD", effectiveFrom, true, List.of(new ModelPrice(model, input, cached, output)));
    }

    public static byte[] json(Object value) {
        try {
            return EventCodec.mapper().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
