package dev.tollgate.gateway.metering;

import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.telemetry.KafkaTracing;
import dev.tollgate.telemetry.Telemetry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes usage events to {@code usage.v1} (key = tenant) through the local durable {@link Spool}:
 * {@link #emit} never blocks and never waits for Kafka; the spool's drainer sends in order with an
 * idempotent, {@code acks=all} producer and retries for as long as Kafka is unavailable. When the
 * spool is full, or its disk refuses writes, the gateway either keeps serving and counts the lost events (fail-open) or refuses
 * new requests until it drains (fail-closed; see {@link #accepting()}).
 */
public final class UsageEmitter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageEmitter.class);

    private final Producer<String, byte[]> producer;
    private final Spool spool;
    private final String source;
    private final boolean failClosed;
    private final AtomicLong lost = new AtomicLong();
    private final long spoolMaxBytes;
    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;

    public UsageEmitter(String bootstrapServers, String instanceId, Path spoolDirectory, Spool.Options spoolOptions,
                        boolean failClosed) {
        this(bootstrapServers, instanceId, spoolDirectory, spoolOptions, failClosed, OpenTelemetry.noop());
    }

    /**
     * @param openTelemetry makes one producer span per event ({@code create usage.v1}, a child of the request's
     *                      span), whose context the event carries in its CloudEvents {@code traceparent} and in the
     *                      Kafka record's {@code traceparent} header
     */
    public UsageEmitter(String bootstrapServers, String instanceId, Path spoolDirectory, Spool.Options spoolOptions,
                        boolean failClosed, OpenTelemetry openTelemetry) {
        this(producer(bootstrapServers, instanceId), instanceId, spoolDirectory, spoolOptions, failClosed, openTelemetry);
    }

    /** With the producer given (tests drive one that fails on cue). */
    UsageEmitter(Producer<String, byte[]> producer, String instanceId, Path spoolDirectory, Spool.Options spoolOptions,
                 boolean failClosed, OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("dev.tollgate.gateway");
        this.producer = producer;
        this.source = "/gateway/" + instanceId;
        this.failClosed = failClosed;
        this.spoolMaxBytes = spoolOptions.spoolMaxBytes();
        this.spool = Spool.open(spoolDirectory, spoolOptions, this::sendBatch);
    }

    private static Producer<String, byte[]> producer(String bootstrapServers, String instanceId) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000,
                // The producer itself keeps retrying a batch for up to 10 minutes: an outage shorter than
                // that is bridged without the spool re-sending (which would duplicate what got through).
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.CLIENT_ID_CONFIG, "gateway-" + instanceId),
                new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * Sends a spooled batch in order (the spool's drainer thread) and returns how many records from
     * its start Kafka acknowledged. If a send cannot even be queued (Kafka unreachable for longer than
     * {@code max.block.ms}), the records already queued are still waited for, so that the spool never
     * sends again what did get through. The same when a send fails at once (the producer answers a
     * record it cannot place, e.g. without metadata after a partition, with a future that has already
     * failed): the records after it are not sent, or they would land ahead of it and then again when the
     * spool re-sends from it (a CI run of {@code KafkaPartitionIT} saw 13 such duplicates).
     */
    private int sendBatch(List<Spool.Record> batch) throws InterruptedException {
        var sends = new ArrayList<Future<RecordMetadata>>(batch.size());
        for (Spool.Record record : batch) {
            try {
                var kafkaRecord = new ProducerRecord<>(Topics.USAGE.name(), record.key(), record.value());
                if (record.traceparent() != null) {
                    kafkaRecord.headers().add(Telemetry.TRACEPARENT, KafkaTracing.headerValue(record.traceparent()));
                }
                Future<RecordMetadata> send = producer.send(kafkaRecord);
                sends.add(send);
                if (send.isDone() && failed(send)) {
                    LOG.warn("usage.v1 refused record {} of {} at once; the rest of the batch waits for the next try", sends.size(), batch.size());
                    break;
                }
            } catch (RuntimeException e) {
                LOG.warn("usage.v1 unavailable after {} of {} records: {}", sends.size(), batch.size(), e.toString());
                break;
            }
        }
        int delivered = 0;
        for (Future<RecordMetadata> send : sends) {
            try {
                send.get(610, TimeUnit.SECONDS);
                delivered++;
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("usage.v1 send failed after {} of {} records: {}", delivered, sends.size(),
                        e instanceof ExecutionException ? e.getCause().toString() : e.toString());
                break; // later records of the batch may have landed, but order forbids counting them
            }
        }
        return delivered;
    }

    private static boolean failed(Future<RecordMetadata> done) throws InterruptedException {
        try {
            done.get();
            return false;
        } catch (ExecutionException | CancellationException e) {
            return true;
        }
    }

    /** The CloudEvents {@code source} of this gateway's events ({@code /gateway/<instance id>}). */
    public String source() {
        return source;
    }

    /** The SDK the gateway's spans come from. */
    public OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    /** The producer's client metrics (sends, errors, batch sizes, request latency) for {@code /metrics}. */
    public void bindTo(MeterRegistry registry) {
        new KafkaClientMetrics(producer).bindTo(registry);
    }

    /**
     * Spools one event, caused by the operation {@code parent} traces; returns its id. Never blocks.
     * The event's producer span ends at once: what follows (the spool, the send) is the spool's.
     */
    public String emit(EventType type, String subject, Context parent, EventData data) {
        String id = UUID.randomUUID().toString();
        Span span = tracer.spanBuilder("create " + Topics.USAGE.name()).setSpanKind(SpanKind.PRODUCER).setParent(parent)
                .setAttribute("messaging.system", "kafka")
                .setAttribute("messaging.operation.type", "create")
                .setAttribute("messaging.destination.name", Topics.USAGE.name())
                .setAttribute("messaging.message.id", id)
                .setAttribute("cloudevents.event_type", type.typeName())
                .startSpan();
        String traceparent = Telemetry.traceparent(span.getSpanContext());
        span.end();
        CloudEvent<EventData> event = CloudEvent.withId(id, type, source, Instant.now(), subject, traceparent, data);
        if (!spool.offer(new Spool.Record(data.tenantId(), EventCodec.encode(event), traceparent))) {
            lost.incrementAndGet();
            LOG.error("usage spool {}: event {} ({}) of tenant {} lost", spool.diskFailing() ? "disk failing" : "full",
                    event.id(), type.typeName(), data.tenantId());
        }
        return event.id();
    }

    /**
     * False when fail-closed and the spool is 90 % full, or its disk refuses writes: new requests are
     * refused (503) so that the events of the requests already running still fit.
     */
    public boolean accepting() {
        return !failClosed || (spool.pendingBytes() < spoolMaxBytes / 10 * 9 && !spool.diskFailing());
    }

    /** True while the spool's disk refuses writes (full or failing). */
    public boolean spoolDiskFailing() {
        return spool.diskFailing();
    }

    /** Events refused by a full spool (lost) since start. */
    public long lostEvents() {
        return lost.get();
    }

    /** Bytes of events not yet in Kafka. */
    public long pendingBytes() {
        return spool.pendingBytes();
    }

    @Override
    public void close() {
        spool.close();
        // Bounded: with Kafka down, sends in flight would hold the shutdown for the whole delivery timeout. Whatever
        // was not acknowledged is still in the spool (not checkpointed) and is sent again on the next start.
        producer.close(Duration.ofSeconds(5));
    }
}
