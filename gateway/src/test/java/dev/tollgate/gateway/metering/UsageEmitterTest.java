package dev.tollgate.gateway.metering;

import dev.tollgate.gateway.spool.Spool;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestAccepted;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class UsageEmitterTest {
    /**
     * A producer that refuses one record at once, as Kafka's does when it has no metadata for the topic
     * within {@code max.block.ms} (after a network partition): the future it returns has already failed.
     */
    private static final class RefusesOnce extends MockProducer<String, byte[]> {
        private final int refuse;
        private final AtomicInteger sends = new AtomicInteger();

        RefusesOnce(int refuse) {
            super(true, null, new StringSerializer(), new ByteArraySerializer());
            this.refuse = refuse;
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
            if (sends.incrementAndGet() == refuse) {
                return CompletableFuture.failedFuture(new TimeoutException("Topic usage.v1 not present in metadata after 5000 ms."));
            }
            return super.send(record);
        }
    }

    @Test
    void aRecordRefusedAtOnceIsNotOvertakenByTheRestOfItsBatchNorSentTwice(@TempDir Path spool) throws Exception {
        var producer = new RefusesOnce(3);
        List<String> emitted = new ArrayList<>();
        // A long fsync interval: the 20 events reach the producer as one batch of the spool.
        try (var usage = new UsageEmitter(producer, "test", spool, new Spool.Options(1_000, 1L << 20, 300), false, OpenTelemetry.noop())) {
            for (int i = 0; i < 20; i++) {
                emitted.add(usage.emit(EventType.USAGE_REQUEST_ACCEPTED, "r" + i, Context.root(),
                        new RequestAccepted("r" + i, "acme", "key-1", "m", Endpoint.CHAT_COMPLETIONS, false, "p/e", 10, 100)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> usage.pendingBytes() == 0);
        }
        List<String> sent = producer.history().stream().map(r -> EventCodec.decode(r.value()).id()).toList();
        assertThat(sent).as("each event once, in the order emitted").isEqualTo(emitted);
    }
}
