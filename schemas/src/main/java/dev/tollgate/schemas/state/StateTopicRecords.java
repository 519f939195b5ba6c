package dev.tollgate.schemas.state;

import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.topic.Topics;

import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.Objects;

/**
 * The one check every reader of a compacted state topic applies before it believes a record:
 * the value decodes to the topic's record type with all required fields, the record's key names
 * the same thing as the value (a tenant record keyed by another tenant's id would otherwise
 * overwrite that tenant in one reader and not in another), and a tenant's billing zone exists.
 * Readers keep their last good value when a record fails (ADR 0014).
 */
public final class StateTopicRecords {
    private StateTopicRecords() {}

    /** True when {@code topic} is one of the compacted state topics this class knows. */
    public static boolean isStateTopic(String topic) {
        return topic.equals(Topics.TENANTS_STATE.name()) || topic.equals(Topics.KEYS_STATE.name())
                || topic.equals(Topics.PRICELISTS_STATE.name()) || topic.equals(Topics.QUOTA_STATE.name());
    }

    /**
     * The decoded, checked value of a (non-tombstone) record of a state topic: a {@link TenantState},
     * {@link KeyState}, {@link QuotaState} or {@link PriceListPublished}.
     *
     * @throws EventFormatException when the record must not be believed; the message says why
     */
    public static Object decode(String topic, String key, byte[] value) {
        if (value == null) {
            throw new EventFormatException("a tombstone is not a value", null);
        }
        Object decoded;
        String id;
        if (topic.equals(Topics.TENANTS_STATE.name())) {
            TenantState tenant = EventCodec.decodeState(value, TenantState.class);
            try {
                ZoneId.of(tenant.billingTimeZone());
            } catch (DateTimeException e) {
                throw new EventFormatException("TenantState: unknown billingTimeZone '" + tenant.billingTimeZone() + "'", e);
            }
            decoded = tenant;
            id = tenant.tenantId();
        } else if (topic.equals(Topics.KEYS_STATE.name())) {
            KeyState state = EventCodec.decodeState(value, KeyState.class);
            decoded = state;
            id = state.keyId();
        } else if (topic.equals(Topics.QUOTA_STATE.name())) {
            QuotaState state = EventCodec.decodeState(value, QuotaState.class);
            decoded = state;
            id = state.stateKey();
        } else if (topic.equals(Topics.PRICELISTS_STATE.name())) {
            PriceListPublished list = EventCodec.decodeObject(value, PriceListPublished.class);
            decoded = list;
            id = list.priceListId();
        } else {
            throw new IllegalArgumentException("not a state topic: " + topic);
        }
        if (!Objects.equals(key, id)) {
            throw new EventFormatException("record key '" + key + "' does not name the value's id '" + id + "'", null);
        }
        return decoded;
    }
}
