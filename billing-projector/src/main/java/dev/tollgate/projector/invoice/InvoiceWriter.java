package dev.tollgate.projector.invoice;

import dev.tollgate.billing.InvoiceIds;
import dev.tollgate.projector.config.BatchConsumerLoop;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.config.ConsumerLoops;
import dev.tollgate.projector.deadletter.DeadLetters;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.telemetry.KafkaTracing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.util.HashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads usage.billed.v1 (read_committed: only what the projector's transactions committed) and
 * applies each polled batch to PostgreSQL in one transaction, then commits the offsets. A crash
 * between the two re-reads the batch, and the keyed inserts make that a no-op: effectively once.
 * A failure (PostgreSQL down) rewinds to the batch's start and retries with backoff, so nothing is
 * skipped ({@link BatchConsumerLoop}). A record that is not a billing record goes to deadletter.v1
 * and the rest of its batch is written.
 */
@Component
public class InvoiceWriter implements SmartLifecycle {
    /** The {@link dev.tollgate.schemas.topic.DeadLetterHeaders#CONSUMER} of the records it refuses. */
    public static final String CONSUMER = "invoice-writer";

    private final BillingProperties properties;
    private final InvoiceStore store;
    private final DeadLetters deadLetters;
    private final ConsumerLoops loops;
    private volatile ConsumerLoops.Loop loop;
    private volatile KafkaClientMetrics clientMetrics;
    private volatile boolean running;

    private final MeterRegistry registry;
    private final Counter written;
    private final Counter failures;

    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;

    /** @param openTelemetry a span per billed event written, a child of the projector's (from the record's headers) */
    public InvoiceWriter(BillingProperties properties, InvoiceStore store, MeterRegistry registry,
                         OpenTelemetry openTelemetry, DeadLetters deadLetters, ConsumerLoops loops) {
        this.loops = loops;
        this.deadLetters = deadLetters;
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("dev.tollgate.billing");
        this.registry = registry;
        this.properties = properties;
        this.store = store;
        this.written = Counter.builder("tollgate.invoice.writer.records")
                .description("usage.billed.v1 records applied to PostgreSQL").register(registry);
        this.failures = Counter.builder("tollgate.invoice.writer.failures")
                .description("batches that failed and were retried").register(registry);
    }

    @Override
    public void start() {
        running = true;
        loop = loops.start("invoice writer", this::newConsumer, List.of(Topics.USAGE_BILLED.name()), this::write, failures::increment);
    }

    private KafkaConsumer<String, byte[]> newConsumer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, properties.invoiceWriter().groupId());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "invoice-writer-" + properties.instanceId());
        var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        // records-lag-max and commit latency of the writer: how far invoices are behind billing.
        if (clientMetrics != null) {
            clientMetrics.close();
        }
        clientMetrics = new KafkaClientMetrics(consumer);
        clientMetrics.bindTo(registry);
        return consumer;
    }

    /** One polled batch into PostgreSQL in one transaction; a record that does not decode is dead-lettered first. */
    private boolean write(ConsumerRecords<String, byte[]> records) {
        var batch = new ArrayList<InvoiceStore.Positioned>(records.count());
        var spans = new ArrayList<Span>();
        for (ConsumerRecord<String, byte[]> record : records) {
            BillingRecord decoded;
            try {
                decoded = BillingRecord.decode(record.value());
            } catch (RuntimeException e) {
                deadLetters.send(record, CONSUMER, e.getMessage());
                continue;
            }
            batch.add(new InvoiceStore.Positioned(decoded, record.partition(), record.offset()));
            if (decoded instanceof BillingRecord.Billed billed) {
                spans.add(span(record, billed));
            }
        }
        try {
            store.apply(batch);
        } catch (RuntimeException e) {
            spans.forEach(span -> span.setStatus(StatusCode.ERROR, "batch not written; retried").end());
            throw e;
        }
        written.increment(batch.size());
        spans.forEach(Span::end);
        return true;
    }

    /** The span of one billed event's way into its invoice, until the batch's transaction and offsets are committed. */
    private Span span(ConsumerRecord<String, byte[]> record, BillingRecord.Billed billed) {
        return tracer.spanBuilder("process " + Topics.USAGE_BILLED.name()).setSpanKind(SpanKind.CONSUMER)
                .setParent(KafkaTracing.extract(openTelemetry, record.headers()))
                .setAttribute("messaging.system", "kafka")
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.destination.name", Topics.USAGE_BILLED.name())
                .setAttribute("messaging.message.id", billed.eventId())
                .setAttribute("tollgate.tenant.id", billed.tenantId())
                .setAttribute("tollgate.invoice.id", InvoiceIds.of(billed.tenantId(), billed.period()))
                .startSpan();
    }

    @Override
    public void stop() {
        running = false;
        if (loop != null) {
            loop.stop();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
