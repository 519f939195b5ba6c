package dev.tollgate.projector.credit;

import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.BillingProperties;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.payment.PaymentRefunded;
import dev.tollgate.schemas.payment.PaymentSucceeded;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes confirmed payments to {@code payments.v1} (idempotent producer, acks=all) and waits for
 * the broker: the payment webhook answers Stripe only after this, so a payment Stripe was told we
 * received is on the log (Stripe retries anything else). The event id is derived from the payment,
 * so the same payment confirmed twice is the same event; the ledger grants it once either way.
 */
@Component
public class PaymentPublisher implements DisposableBean {
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(20);

    private final BillingProperties properties;
    private final Clock clock;
    private volatile KafkaProducer<String, byte[]> producer;

    public PaymentPublisher(BillingProperties properties, Clock clock) {
        this.properties = properties;
        this.clock = clock;
    }

    public void publish(PaymentSucceeded payment) {
        send(EventType.BILLING_PAYMENT_SUCCEEDED, "payment:" + payment.provider() + ":" + payment.paymentId(), payment.tenantId(),
                payment.paymentId(), payment);
    }

    /** A refund of a payment; its event id is derived from the payment and how much has been refunded, so a redelivery is the same event. */
    public void publish(PaymentRefunded refund) {
        send(EventType.BILLING_PAYMENT_REFUNDED, "refund:" + refund.provider() + ":" + refund.paymentId() + ":" + refund.refundedMicros(),
                refund.tenantId(), refund.paymentId(), refund);
    }

    private void send(EventType type, String idSeed, String tenantId, String subject, EventData data) {
        String id = UUID.nameUUIDFromBytes(idSeed.getBytes(StandardCharsets.UTF_8)).toString();
        publish(CloudEvent.withId(id, type, "/billing/" + properties.instanceId(), clock.instant(), subject, null, data));
    }

    /** Any event of payments.v1, keyed by its tenant, once the broker has it. */
    public void publish(CloudEvent<?> event) {
        try {
            producer().send(new ProducerRecord<>(Topics.PAYMENTS.name(), event.tenantid(), EventCodec.encode(event)))
                    .get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BillingException.Unavailable("payments_unavailable", "interrupted while recording the payment");
        } catch (ExecutionException | TimeoutException e) {
            // 503: Stripe delivers the event again later.
            throw new BillingException.Unavailable("payments_unavailable", "the payment could not be recorded now; Stripe will retry");
        }
    }

    private KafkaProducer<String, byte[]> producer() {
        KafkaProducer<String, byte[]> current = producer;
        if (current == null) {
            synchronized (this) {
                current = producer;
                if (current == null) {
                    current = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.kafka().bootstrapServers(),
                            ProducerConfig.CLIENT_ID_CONFIG, "payments-" + properties.instanceId(),
                            ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis(), ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000),
                            new StringSerializer(), new ByteArraySerializer());
                    producer = current;
                }
            }
        }
        return current;
    }

    @Override
    public void destroy() {
        KafkaProducer<String, byte[]> current = producer;
        if (current != null) {
            current.close(Duration.ofSeconds(5));
        }
    }
}
