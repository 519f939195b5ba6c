package dev.tollgate.projector.reprice;

import dev.tollgate.billing.PlanHistory;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.projector.config.ConsumerLoops;
import dev.tollgate.projector.config.ProjectorLifecycle;
import dev.tollgate.projector.invoice.BillingRecord;
import dev.tollgate.projector.invoice.InvoiceStore;
import dev.tollgate.projector.stream.StoreLookups;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Re-prices what was billed before a ledger backfill (ADR 0017): reads {@code ledger.events.v1} in
 * its own consumer group and, for each plan assignment and each price list, prices again every event
 * on a not yet finalized invoice from the assignment's or list's effective time on, of the tenant
 * assigned or of every tenant that is ever on the list's plan, with the projector's own lookups (its
 * global stores, once they hold what the event changed) and the one pricing step
 * ({@link BillingRecord.AppliedPrice#inForce}). An assignment or list effective in the future finds
 * nothing billed yet and changes nothing. At least once and idempotent: a batch is done only when
 * every record in it is applied, and applying one twice changes nothing the second time.
 */
@Component
public class BackfillRepricer implements SmartLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(BackfillRepricer.class);
    /** How long a batch waits for the global stores to show what its events changed before it prices with what they hold. */
    public static final Duration STORE_WAIT = Duration.ofSeconds(60);
    /**
     * Each re-pricing runs once more this long after: an event the projector priced while its stores were
     * taking the change in, and that reached PostgreSQL after the first pass, is priced again then.
     */
    public static final Duration SECOND_PASS = Duration.ofSeconds(10);

    private final BillingProperties properties;
    private final InvoiceStore store;
    private final ProjectorLifecycle projector;
    private final Counter repriced;
    private final Counter failures;
    private final ConsumerLoops loops;
    private volatile ConsumerLoops.Loop loop;
    private volatile KafkaProducer<String, byte[]> producer;
    private volatile boolean running;
    private volatile ScheduledExecutorService later;
    /** When the batch now being retried was first found unready (0: it was not), to bound the wait. */
    private long unreadySince;

    /** One ledger event's effect: the tenant's (or every tenant ever on the plan's) events from this time on are priced again. */
    private record Backfill(String tenantId, String planId, Instant from, String why) {
        List<String> tenants(StoreLookups lookups) {
            if (tenantId != null) {
                return List.of(tenantId);
            }
            return lookups.allTenants().stream()
                    .filter(t -> PlanHistory.of(t).periods().stream().anyMatch(period -> period.planId().equals(planId)))
                    .map(TenantState::tenantId).toList();
        }
    }

    public BackfillRepricer(BillingProperties properties, InvoiceStore store, ProjectorLifecycle projector, MeterRegistry registry,
                            ConsumerLoops loops) {
        this.loops = loops;
        this.properties = properties;
        this.store = store;
        this.projector = projector;
        this.repriced = Counter.builder("tollgate.billing.repriced.events")
                .description("billed events priced again after a ledger backfill").register(registry);
        this.failures = Counter.builder("tollgate.billing.repricer.failures").description("re-pricing batches that failed and were retried")
                .register(registry);
    }

    /** The re-pricer's consumer group: the invoice writers' group with a suffix. */
    public static String groupId(BillingProperties properties) {
        return properties.invoiceWriter().groupId() + "-repricer";
    }

    @Override
    public void start() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(properties));
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "repricer-" + properties.instanceId());
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.CLIENT_ID_CONFIG, "repricer-" + properties.instanceId()), new StringSerializer(), new ByteArraySerializer());
        running = true;
        later = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("backfill-repricer-second-pass").factory());
        loop = loops.start("backfill repricer", () -> new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer()),
                List.of(Topics.LEDGER_EVENTS.name()), this::apply, failures::increment);
    }

    /** Applies a batch once the projector's stores hold what it changed (or after {@link #STORE_WAIT}); false: not yet. */
    private boolean apply(ConsumerRecords<String, byte[]> records) {
        KafkaStreams streams = projector.streams();
        if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
            return false; // the projector is still starting: try the batch again shortly
        }
        StoreLookups lookups;
        try {
            lookups = StoreLookups.over(streams);
        } catch (InvalidStateStoreException e) {
            return false;
        }
        var backfills = new ArrayList<Backfill>();
        boolean ready = true;
        for (ConsumerRecord<String, byte[]> record : records) {
            CloudEvent<EventData> event;
            try {
                event = EventCodec.decode(record.value());
            } catch (RuntimeException e) {
                continue; // not a ledger event this service can read; the state checker and the audit report such records
            }
            if (event.data() instanceof PlanAssigned assigned) {
                TenantState tenant = lookups.tenant(assigned.tenantId());
                ready &= tenant != null && tenant.plans() != null
                        && tenant.plans().stream().map(PlanPeriod::effectiveFrom).anyMatch(assigned.effectiveFrom()::equals);
                backfills.add(new Backfill(assigned.tenantId(), null, assigned.effectiveFrom(),
                        "plan " + assigned.planId() + " assigned from " + assigned.effectiveFrom()));
            } else if (event.data() instanceof PriceListPublished list) {
                ready &= lookups.hasPriceList(list.priceListId());
                backfills.add(new Backfill(null, list.planId(), list.effectiveFrom(),
                        "price list " + list.priceListId() + " of plan " + list.planId()));
            }
        }
        if (!ready) {
            if (unreadySince == 0) {
                unreadySince = System.nanoTime();
            }
            if (System.nanoTime() - unreadySince < STORE_WAIT.toNanos()) {
                return false;
            }
            LOG.warn("re-pricing after {}: the projector's stores do not show every ledger change of the batch yet; pricing with what they hold",
                    STORE_WAIT);
        }
        unreadySince = 0;
        if (backfills.isEmpty()) {
            return true;
        }
        reprice(lookups, backfills);
        later.schedule(() -> {
            try {
                reprice(StoreLookups.over(projector.streams()), backfills);
            } catch (RuntimeException e) {
                failures.increment();
                LOG.warn("second re-pricing pass failed: {}", e.toString());
            }
        }, SECOND_PASS.toMillis(), TimeUnit.MILLISECONDS);
        return true;
    }

    private void reprice(StoreLookups lookups, List<Backfill> backfills) {
        for (Backfill backfill : backfills) {
            for (String tenantId : backfill.tenants(lookups)) {
                int changed = store.reprice(tenantId, backfill.from(),
                        row -> BillingRecord.AppliedPrice.inForce(lookups.priceBook(), lookups.tenant(row.tenantId()), row.model(), row.time()),
                        this::publish);
                if (changed > 0) {
                    repriced.increment(changed);
                    LOG.info("tenant {}: {} billed events priced again after {}", tenantId, changed, backfill.why());
                }
            }
        }
    }

    /**
     * Tells the projector what each re-priced event adds to the live usage (new exact amount less the
     * old), and waits for the broker: inside the re-pricing's transaction, so that a failure leaves the
     * events unpriced-again and the batch is retried.
     */
    private void publish(List<InvoiceStore.Repricing> changes) {
        var sends = new ArrayList<Future<RecordMetadata>>(changes.size());
        for (InvoiceStore.Repricing change : changes) {
            BillingRecord.Billed row = change.row();
            BigDecimal delta = amount(row, change.price()).subtract(amount(row, row.price()));
            var repriced = new RepricedUsage(row.eventId(), row.tenantId(), row.keyId(), row.model(), row.time(),
                    change.price() == null ? null : change.price().priceListId(), delta);
            sends.add(producer.send(new ProducerRecord<>(Topics.USAGE_REPRICED.name(), row.tenantId(), repriced.encode())));
        }
        try {
            for (Future<RecordMetadata> send : sends) {
                send.get(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing re-priced usage", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not publish re-priced usage; the re-pricing is rolled back and retried", e);
        }
    }

    private static BigDecimal amount(BillingRecord.Billed row, BillingRecord.AppliedPrice price) {
        return price == null ? BigDecimal.ZERO : UsageBilling.exactAmountMicros(row.usage(), price.rates());
    }

    @Override
    public void stop() {
        running = false;
        if (later != null) {
            later.shutdownNow();
        }
        if (loop != null) {
            loop.stop();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
