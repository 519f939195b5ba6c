package dev.tollgate.projector.stream;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.topic.DeadLetterHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.nio.charset.StandardCharsets;

/**
 * Parses raw usage records. A record that is not a valid event is never dropped silently: it goes,
 * bytes unchanged, to the dead-letter child with the reason and origin in headers, and the
 * pipeline keeps going.
 */
public final class ParseOrDeadLetter implements Processor<String, byte[], String, Object> {
    /** The {@link DeadLetterHeaders#CONSUMER} of the records this parser refuses. */
    public static final String CONSUMER = "projector-usage-parser";

    private final String parsedChild;
    private final String deadLetterChild;
    private ProcessorContext<String, Object> context;

    public ParseOrDeadLetter(String parsedChild, String deadLetterChild) {
        this.parsedChild = parsedChild;
        this.deadLetterChild = deadLetterChild;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        try {
            if (record.value() == null) {
                throw new EventFormatException("null value (tombstone) on an event topic", null);
            }
            CloudEvent<EventData> event = EventCodec.decode(record.value());
            context.forward(record.withValue((Object) event), parsedChild);
        } catch (EventFormatException e) {
            Record<String, Object> dead = record.<Object>withValue(record.value());
            dead.headers().add(DeadLetterHeaders.ERROR, String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
            dead.headers().add(DeadLetterHeaders.CONSUMER, CONSUMER.getBytes(StandardCharsets.UTF_8));
            context.recordMetadata().ifPresent(meta -> dead.headers().add(DeadLetterHeaders.ORIGIN,
                    (meta.topic() + "/" + meta.partition() + "/" + meta.offset()).getBytes(StandardCharsets.UTF_8)));
            context.forward(dead, deadLetterChild);
        }
    }
}
