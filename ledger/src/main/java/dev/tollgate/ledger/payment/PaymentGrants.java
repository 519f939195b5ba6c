package dev.tollgate.ledger.payment;

import dev.tollgate.ledger.config.LedgerProperties;
import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.tenant.TenantCommands;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.payment.PaymentRefunded;
import dev.tollgate.schemas.payment.PaymentSucceeded;
import dev.tollgate.schemas.topic.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.MetaData;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Turns confirmed payments ({@code payments.v1}, from the billing service's Stripe webhook) into credit
 * grants (ADR 0027): one {@code GrantCredit} per payment, with the payment as the grant's external id,
 * so a payment read twice (a redelivered webhook, a consumer restarted before its commit) grants once.
 * Offsets are committed only after the grant is made; a failure that may pass (the database, a lock)
 * retries the same record; a payment the ledger cannot grant (unknown tenant, another currency) is
 * logged and counted, never retried for ever. A full refund of a payment voids the unspent part of its grant, a partial one
 * lowers the grant in proportion
 * ({@code RefundPayment}); the billing service publishes a refund only after its payment, so the grant exists.
 */
@Component
public class PaymentGrants implements SmartLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(PaymentGrants.class);
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final LedgerProperties properties;
    private final CommandGateway commands;
    private final Counter granted;
    private final Counter refused;
    private final Counter refunded;
    private final Counter partialRefunds;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread thread;
    private volatile boolean running;

    public PaymentGrants(LedgerProperties properties, CommandGateway commands, MeterRegistry registry) {
        this.properties = properties;
        this.commands = commands;
        this.granted = Counter.builder("tollgate.ledger.payments").tag("outcome", "granted").register(registry);
        this.refused = Counter.builder("tollgate.ledger.payments").tag("outcome", "refused").register(registry);
        this.refunded = Counter.builder("tollgate.ledger.payments").tag("outcome", "refund_voided").register(registry);
        this.partialRefunds = Counter.builder("tollgate.ledger.payments").tag("outcome", "refund_partial").register(registry);
    }

    @Override
    public void start() {
        consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "tollgate-ledger-payments", ConsumerConfig.CLIENT_ID_CONFIG, "payments-" + properties.instanceId(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100),
                new StringDeserializer(), new ByteArrayDeserializer());
        running = true;
        thread = new Thread(this::run, "ledger-payments");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            consumer.subscribe(List.of(Topics.PAYMENTS.name()));
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (!apply(record)) {
                        // Not granted yet for a reason that may pass: read it again after a pause, commit nothing past it.
                        consumer.seek(new TopicPartition(record.topic(), record.partition()), record.offset());
                        sleep();
                        break;
                    }
                    consumer.commitSync(Map.of(new TopicPartition(record.topic(), record.partition()),
                            new OffsetAndMetadata(record.offset() + 1)));
                }
            }
        } catch (WakeupException e) {
            // stopping
        } catch (RuntimeException e) {
            LOG.error("the payments consumer stopped; payments are granted again after a restart", e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** True when the record is done with (granted, already granted, or refused for good). */
    private boolean apply(ConsumerRecord<String, byte[]> record) {
        CloudEvent<EventData> event;
        try {
            event = EventCodec.decode(record.value());
        } catch (EventFormatException e) {
            refused.increment();
            LOG.error("payments.v1 {}/{}: unreadable payment record, not granted: {}", record.partition(), record.offset(), e.getMessage());
            return true;
        }
        if (event.data() instanceof PaymentRefunded refund) {
            return refund(refund);
        }
        if (!(event.data() instanceof PaymentSucceeded payment)) {
            return true;
        }
        try {
            commands.sendAndWait(GenericCommandMessage.asCommandMessage(new TenantCommands.GrantCredit(payment.tenantId(), TenantCommands.GrantCredit.newId(),
                            payment.amountMicros(), CreditSource.PURCHASE, "payment " + payment.paymentId() + " (" + payment.provider() + ")", null,
                            null, List.of(), List.of(), payment.paymentId(), payment.currency()))
                    .andMetaData(MetaData.with("actor", "system:payments")));
            granted.increment();
            return true;
        } catch (AggregateNotFoundException | LedgerException.Invalid | LedgerException.Conflict e) {
            refused.increment();
            LOG.error("payment {} of tenant {} ({} micro-units {}) not granted: {}", payment.paymentId(), payment.tenantId(),
                    payment.amountMicros(), payment.currency(), e.getMessage());
            return true;
        } catch (RuntimeException e) {
            LOG.warn("payment {} of tenant {} not granted yet, retrying: {}", payment.paymentId(), payment.tenantId(), e.toString());
            return false;
        }
    }

    /**
     * A refund lowers the grant its payment bought in proportion to what was refunded so far, a full one voids what is left
     * of it ({@code RefundPayment}: once; a redelivered or an older refund changes nothing); both are counted.
     */
    private boolean refund(PaymentRefunded refund) {
        try {
            Object changed = commands.sendAndWait(GenericCommandMessage.asCommandMessage(new TenantCommands.RefundPayment(refund.tenantId(),
                            refund.paymentId(), refund.refundedMicros(), refund.paidMicros(), "payment " + refund.paymentId() + " refunded"
                            + (refund.full() ? "" : " in part, " + refund.refundedMicros() + " of " + refund.paidMicros() + " micro-units "
                            + refund.currency() + " so far") + " (" + refund.provider() + " " + refund.providerEventId() + ")"))
                    .andMetaData(MetaData.with("actor", "system:payments")));
            if (changed != null) {
                (refund.full() ? refunded : partialRefunds).increment();
            }
            return true;
        } catch (AggregateNotFoundException | LedgerException.NotFound | LedgerException.Invalid e) {
            refused.increment();
            LOG.error("refund of payment {} of tenant {} changed no grant: {}", refund.paymentId(), refund.tenantId(), e.getMessage());
            return true;
        } catch (RuntimeException e) {
            LOG.warn("refund of payment {} of tenant {} not applied yet, retrying: {}", refund.paymentId(), refund.tenantId(), e.toString());
            return false;
        }
    }

    private void sleep() {
        try {
            Thread.sleep(RETRY.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void stop() {
        running = false;
        KafkaConsumer<String, byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
