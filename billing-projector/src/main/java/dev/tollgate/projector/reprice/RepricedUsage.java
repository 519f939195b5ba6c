package dev.tollgate.projector.reprice;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.tollgate.schemas.json.EventCodec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;

import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * One billed event priced again after a ledger backfill ({@code usage.repriced.v1}): the spend it
 * adds to the live usage of its day and minute (negative: removes), exact in micro-units. The
 * projector applies each (event, new price list) once.
 *
 * @param priceListId the list it is priced with now (null: no price in force any more)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RepricedUsage(String eventId, String tenantId, String keyId, String model, Instant time, String priceListId,
                            BigDecimal spendDeltaMicros) {
    public RepricedUsage {
        requiredText(eventId, "eventId");
        requiredText(tenantId, "tenantId");
        requiredText(model, "model");
        required(time, "time");
        required(spendDeltaMicros, "spendDeltaMicros");
    }

    public byte[] encode() {
        try {
            return EventCodec.mapper().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static RepricedUsage decode(byte[] json) {
        return EventCodec.decodeObject(json, RepricedUsage.class);
    }
}
