package dev.tollgate.ledger.publish;

import dev.tollgate.ledger.config.AxonConfig;
import dev.tollgate.ledger.config.LedgerProperties;
import dev.tollgate.ledger.processing.ProcessorSupervisor;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The publisher resumes from its tracking token: stopped in the middle of a burst and restarted, it
 * leaves no event missing from the topics and no event id twice in a consumer's deduplicated view;
 * a token reset rebuilds the state topics with the same final states.
 */
class PublisherIT extends LedgerTestSupport {
    @Autowired
    EventProcessingConfiguration processing;
    @Autowired
    EventStore eventStore;
    @Autowired
    ProcessorSupervisor supervisor;

    private StreamingEventProcessor publisher() {
        return processing.eventProcessor(AxonConfig.PUBLISHER, StreamingEventProcessor.class).orElseThrow();
    }

    private List<String> storeIds(String tenant) {
        var ids = new ArrayList<String>();
        eventStore.readEvents(tenant).forEachRemaining(e -> ids.add(e.getIdentifier()));
        return ids;
    }

    private List<CloudEvent<EventData>> published(String tenant) {
        return TopicReader.readAll(kafka(), Topics.LEDGER_EVENTS.name()).stream()
                .map(r -> EventCodec.decode(r.value())).filter(e -> e.tenantid().equals(tenant)).toList();
    }

    private Map<String, KeyState> latestKeyStates(Set<String> keyIds) {
        var latest = new HashMap<String, KeyState>();
        for (ConsumerRecord<String, byte[]> record : TopicReader.readAll(kafka(), Topics.KEYS_STATE.name())) {
            if (keyIds.contains(record.key())) {
                latest.put(record.key(), EventCodec.decodeState(record.value(), KeyState.class));
            }
        }
        return latest;
    }

    @Test
    void stoppingThePublisherMidBurstLosesNothingAndResetRebuildsTheStateTopics() {
        String admin = platformAdmin();
        String tenant = newTenantId("pub");
        assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"P " + tenant + "\"}").statusCode()).isEqualTo(201);
        var keyIds = new HashSet<String>();
        for (int i = 0; i < 30; i++) {
            if (i == 12) {
                supervisor.hold(AxonConfig.PUBLISHER); // stopped on purpose: the supervisor must not start it
                publisher().shutDown(); // stops between two events of the burst; commands go on
            }
            var response = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k" + i + "\"}");
            assertThat(response.statusCode()).isEqualTo(201);
            keyIds.add(response.body().replaceAll(".*\"keyId\":\"([^\"]+)\".*", "$1"));
        }
        publisher().start();
        supervisor.release(AxonConfig.PUBLISHER);

        List<String> expected = storeIds(tenant);
        assertThat(expected).hasSize(31);
        await().atMost(Duration.ofSeconds(60)).until(() -> published(tenant).stream().map(CloudEvent::id)
                .distinct().count() == expected.size());
        List<CloudEvent<EventData>> events = published(tenant);
        assertThat(events.stream().map(CloudEvent::id).distinct().toList())
                .as("every stored event once by id, in store order").isEqualTo(expected);
        await().atMost(Duration.ofSeconds(30)).until(() -> latestKeyStates(keyIds).size() == keyIds.size());
        Map<String, KeyState> before = latestKeyStates(keyIds);
        int stateRecordsBefore = (int) TopicReader.readAll(kafka(), Topics.KEYS_STATE.name()).stream()
                .filter(r -> keyIds.contains(r.key())).count();

        supervisor.hold(AxonConfig.PUBLISHER);
        publisher().shutDown();
        publisher().resetTokens();
        publisher().start();
        supervisor.release(AxonConfig.PUBLISHER);

        await().atMost(Duration.ofSeconds(60)).until(() -> TopicReader.readAll(kafka(), Topics.KEYS_STATE.name()).stream()
                .filter(r -> keyIds.contains(r.key())).count() >= 2L * stateRecordsBefore);
        assertThat(latestKeyStates(keyIds)).as("the rebuilt states equal the originals").isEqualTo(before);
        assertThat(published(tenant).stream().map(CloudEvent::id).distinct().toList())
                .as("a replay re-sends the same ids, never new ones").isEqualTo(expected);
    }

    @Autowired
    ReadModel readModel;
    @Autowired
    Producer<String, byte[]> producer;
    @Autowired
    LedgerProperties properties;
    @Autowired
    PlatformTransactionManager transactions;

    /**
     * A crash after the send and before the token's commit: a new publisher (a restarted process:
     * nothing in memory) is handed the same event again, in a transaction that then rolls back as the
     * crashed one did. The topic already holds the event, so it is not sent a second time.
     */
    @Test
    void anEventSentBeforeACrashIsNotSentAgainAfterTheRestart() throws Exception {
        String tenant = newTenantId("crash");
        assertThat(call("POST", "/admin/v1/tenants", platformAdmin(), "{\"tenantId\":\"" + tenant + "\",\"name\":\"C\"}").statusCode())
                .isEqualTo(201);
        await().atMost(Duration.ofSeconds(30)).until(() -> published(tenant).size() == 1);
        TrackedEventMessage<?> created = null;
        try (var stream = eventStore.openStream(null)) {
            while (stream.hasNextAvailable()) {
                var message = stream.nextAvailable();
                if (message.getIdentifier().equals(published(tenant).getFirst().id())) {
                    created = message;
                }
            }
        }
        assertThat(created).isNotNull();
        var restarted = new LedgerPublisher(readModel, producer, properties);
        var message = created;
        var template = new TransactionTemplate(transactions);
        template.executeWithoutResult(status -> {
            try {
                restarted.on(message.getPayload(), message, message.trackingToken());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                status.setRollbackOnly(); // the crashed transaction never committed
            }
        });
        Thread.sleep(1_000);
        assertThat(published(tenant)).as("the event once on ledger.events.v1").hasSize(1);
    }
}
