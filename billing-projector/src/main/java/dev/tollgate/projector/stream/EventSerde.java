package dev.tollgate.projector.stream;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** Kafka serde for CloudEvents in the shared JSON codec. */
public final class EventSerde {
    private EventSerde() {}

    /** A serde of {@link CloudEvent}s; deserialization throws {@link dev.tollgate.schemas.json.EventFormatException}. */
    public static Serde<CloudEvent<EventData>> serde() {
        Serializer<CloudEvent<EventData>> serializer = (topic, event) -> event == null ? null : EventCodec.encode(event);
        Deserializer<CloudEvent<EventData>> deserializer = (topic, bytes) -> bytes == null ? null : EventCodec.decode(bytes);
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
