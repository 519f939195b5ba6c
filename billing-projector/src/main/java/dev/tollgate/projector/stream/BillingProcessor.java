package dev.tollgate.projector.stream;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.BillingPeriod;
import dev.tollgate.billing.PeriodAssignment;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.projector.invoice.BillingRecord;
import dev.tollgate.projector.quota.CreditBalances;
import dev.tollgate.projector.quota.QuotaLookups;
import dev.tollgate.projector.quota.QuotaProcessor;
import dev.tollgate.projector.usage.UsageBucket;
import dev.tollgate.projector.usage.UsageCounts;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.telemetry.KafkaTracing;
import dev.tollgate.telemetry.Telemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Optional;

/**
 * The billing decision for each deduplicated usage event (ADR 0008): what it bills
 * ({@link UsageBilling}), the price list in force at its time, what the tenant's credit pays of it
 * ({@link CreditBalances}, ADR 0028), the invoice period it lands on
 * ({@link PeriodAssignment}: its own, or an adjustment on the open period when it is later than the
 * grace, in which case the raw event also goes to {@code usage.late.v1}), and the live usage per
 * minute and per day. When the partition's stream time passes a tenant's period end plus the grace,
 * a {@link BillingRecord.PeriodClosed} marker follows that tenant's last billed event.
 *
 * <p>Children: {@link #TO_QUOTA} gets the {@link BillableUsage} with the credit burn, {@link #TO_BILLED} the
 * {@link BillingRecord}s, {@link #TO_LATE} the raw late events. Stream time is this processor's own
 * (the newest billable event time seen in the partition, kept in a store), so a replay of the same
 * partition decides exactly the same.
 */
public final class BillingProcessor implements Processor<String, Object, String, Object> {
    public static final String TO_QUOTA = "quota";
    public static final String TO_BILLED = "billed-sink";
    public static final String TO_LATE = "late-sink";
    /** Headers of a record on usage.late.v1. */
    public static final String LATE_PERIOD_HEADER = "tollgate-late-period";
    public static final String ADJUSTED_IN_HEADER = "tollgate-adjusted-in";

    private static final String STREAM_TIME = "stream-time";

    private final ProjectorSettings settings;
    private final QuotaLookups lookups;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, Long> clock;
    private KeyValueStore<String, String> openPeriods;
    private UsageCounts counts;
    private CreditBalances credits;
    /** The earliest close time among the open periods (a cache of the store). */
    private long nextCloseAt = Long.MAX_VALUE;

    private final ProjectorMetrics metrics;
    private final OpenTelemetry openTelemetry;
    private final Tracer tracer;

    public BillingProcessor(ProjectorSettings settings, QuotaLookups lookups, ProjectorMetrics metrics) {
        this(settings, lookups, metrics, OpenTelemetry.noop());
    }

    /** @param openTelemetry a span per billed event, a child of the context its record carries (ADR 0012) */
    public BillingProcessor(ProjectorSettings settings, QuotaLookups lookups, ProjectorMetrics metrics, OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
        this.tracer = openTelemetry.getTracer("dev.tollgate.projector");
        this.settings = settings;
        this.lookups = lookups;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        clock = context.getStateStore(ProjectorTopology.CLOCK_STORE);
        openPeriods = context.getStateStore(ProjectorTopology.OPEN_PERIODS_STORE);
        counts = UsageCounts.of(context, ProjectorTopology.DAY_STORE, ProjectorTopology.MINUTE_STORE);
        credits = new CreditBalances(context.getStateStore(ProjectorTopology.QUOTA_STORE));
        lookups.init(context);
        recomputeNextClose();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void process(Record<String, Object> record) {
        var event = (CloudEvent<EventData>) record.value();
        Optional<BillableUsage> billable = UsageBilling.of(event);
        if (billable.isEmpty()) {
            return;
        }
        BillableUsage usage = billable.get();
        Span span = tracer.spanBuilder("process " + Topics.USAGE.name()).setSpanKind(SpanKind.CONSUMER).setParent(parent(record, event))
                .setAttribute("messaging.system", "kafka")
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.destination.name", Topics.USAGE.name())
                .setAttribute("messaging.message.id", event.id())
                .setAttribute("tollgate.tenant.id", usage.tenantId())
                .setAttribute("gen_ai.request.model", usage.model())
                .startSpan();
        try {
            bill(record, event, usage, span);
        } finally {
            span.end();
        }
    }

    /** The context the record's headers carry, else the event's CloudEvents {@code traceparent}. */
    private Context parent(Record<String, Object> record, CloudEvent<EventData> event) {
        Context fromHeaders = KafkaTracing.extract(openTelemetry, record.headers());
        return Span.fromContext(fromHeaders).getSpanContext().isValid() ? fromHeaders
                : Telemetry.fromTraceparent(openTelemetry, event.traceparent());
    }

    private void bill(Record<String, Object> record, CloudEvent<EventData> event, BillableUsage usage, Span span) {
        TenantState tenant = lookups.tenant(usage.tenantId());
        ZoneId zone = ZoneId.of(tenant == null ? "UTC" : tenant.billingTimeZone());
        Long streamMillis = clock.get(STREAM_TIME);
        Instant streamTime = streamMillis == null ? null : Instant.ofEpochMilli(streamMillis);
        PeriodAssignment assignment = PeriodAssignment.of(usage.time(), zone, streamTime, settings.grace());
        BillingRecord.AppliedPrice price = BillingRecord.AppliedPrice.inForce(lookups.priceBook(), tenant, usage.model(), usage.time());
        BigDecimal cost = price == null ? BigDecimal.ZERO : UsageBilling.exactAmountMicros(usage, price.rates());
        CreditBalances.Burned burned = tenant == null ? null : credits.burn(usage, tenant, cost, event.source());
        context.forward(record.withValue(new QuotaProcessor.Sourced(usage, event.source(), burned)), TO_QUOTA);

        String adjusts = assignment.late() ? assignment.adjustsPeriod().id() : null;
        span.setAttribute("tollgate.invoice.period", assignment.period().id());
        var billedHeaders = new RecordHeaders();
        KafkaTracing.inject(openTelemetry, Context.root().with(span), billedHeaders);
        context.forward(new Record<>(usage.tenantId(), (Object) BillingRecord.Billed.of(usage, assignment.period().id(), adjusts,
                tenant == null ? null : tenant.currency(), price, burned == null ? null : burned.credit()),
                record.timestamp(), billedHeaders), TO_BILLED);
        if (assignment.late()) {
            metrics.lateEvent();
            var headers = new RecordHeaders(record.headers().toArray());
            headers.add(LATE_PERIOD_HEADER, adjusts.getBytes(StandardCharsets.UTF_8));
            headers.add(ADJUSTED_IN_HEADER, assignment.period().id().getBytes(StandardCharsets.UTF_8));
            context.forward(new Record<>(record.key(), (Object) event, record.timestamp(), headers), TO_LATE);
        }
        openPeriod(usage.tenantId(), assignment.period(), zone);
        count(usage, zone, cost);

        long newStreamTime = Math.max(streamMillis == null ? Long.MIN_VALUE : streamMillis, usage.time().toEpochMilli());
        clock.put(STREAM_TIME, newStreamTime);
        if (newStreamTime >= nextCloseAt) {
            closeDue(newStreamTime, record.timestamp());
        }
    }

    private void openPeriod(String tenantId, BillingPeriod period, ZoneId zone) {
        String key = tenantId + "|" + period.id();
        if (openPeriods.get(key) == null) {
            long closesAt = PeriodAssignment.closesAt(period, settings.grace()).toEpochMilli();
            openPeriods.put(key, closesAt + " " + zone.getId());
            nextCloseAt = Math.min(nextCloseAt, closesAt);
        }
    }

    private void count(BillableUsage usage, ZoneId zone, BigDecimal spend) {
        counts.add(usage.tenantId(), usage.keyId(), usage.model(), usage.time(), zone, UsageBucket.EMPTY.plus(usage, spend));
    }

    private void closeDue(long streamTime, long timestamp) {
        var due = new ArrayList<KeyValue<String, String>>();
        try (KeyValueIterator<String, String> all = openPeriods.all()) {
            all.forEachRemaining(entry -> {
                if (Long.parseLong(entry.value.split(" ")[0]) <= streamTime) {
                    due.add(entry);
                }
            });
        }
        for (KeyValue<String, String> entry : due) {
            int bar = entry.key.lastIndexOf('|');
            String tenantId = entry.key.substring(0, bar);
            String period = entry.key.substring(bar + 1);
            String zone = entry.value.split(" ")[1];
            YearMonth.parse(period); // a malformed key is a bug: fail loudly
            context.forward(new Record<>(tenantId, (Object) new BillingRecord.PeriodClosed(tenantId, period, zone,
                    Instant.ofEpochMilli(streamTime)), timestamp), TO_BILLED);
            openPeriods.delete(entry.key);
        }
        recomputeNextClose();
    }

    private void recomputeNextClose() {
        long next = Long.MAX_VALUE;
        try (KeyValueIterator<String, String> all = openPeriods.all()) {
            while (all.hasNext()) {
                next = Math.min(next, Long.parseLong(all.next().value.split(" ")[0]));
            }
        }
        nextCloseAt = next;
    }
}
