package dev.tollgate.ledger.processing;

import dev.tollgate.ledger.config.AxonConfig;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.test.context.TestPropertySource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A publisher whose thread is interrupted (what Axon's 30 s event-handler timeout does to a slow
 * publish) shuts itself down for good; the supervisor starts it again, counts the restart, and keys
 * issued during and after the interruption reach {@code keys.state.v1}. Before the supervisor they
 * never arrived and nothing showed it (KafkaPartitionEndToEndIT found this on a clean clone).
 */
@TestPropertySource(properties = {"tollgate.processors.check-interval=PT0.5S"})
@AutoConfigureObservability(tracing = false)
class ProcessorSupervisorIT extends LedgerTestSupport {
    @Autowired
    EventProcessingConfiguration processing;
    @Autowired
    ProcessorSupervisor supervisor;

    private StreamingEventProcessor publisher() {
        return processing.eventProcessor(AxonConfig.PUBLISHER, StreamingEventProcessor.class).orElseThrow();
    }

    private boolean onKeysTopic(String keyId) {
        return TopicReader.readAll(kafka(), Topics.KEYS_STATE.name()).stream().anyMatch(r -> keyId.equals(r.key()));
    }

    private String issueKey(String tenant) {
        var response = call("POST", "/admin/v1/tenants/" + tenant + "/keys", platformAdmin(), "{\"name\":\"k\"}");
        assertThat(response.statusCode()).isEqualTo(201);
        return response.body().replaceAll(".*\"keyId\":\"([^\"]+)\".*", "$1");
    }

    /** The publisher's restarts as {@code /metrics} shows them; -1 while the series is missing. */
    private long restarts() {
        return call("GET", "/metrics", null, null).body().lines()
                .filter(l -> l.startsWith("tollgate_ledger_processor_restarts_total{") && l.contains("processor=\"" + AxonConfig.PUBLISHER + "\""))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    @Test
    void anInterruptedPublisherIsStartedAgainAndPublishesWhatCameMeanwhile() {
        String tenant = newTenantId("sup");
        assertThat(call("POST", "/admin/v1/tenants", platformAdmin(), "{\"tenantId\":\"" + tenant + "\",\"name\":\"S\"}").statusCode())
                .isEqualTo(201);
        String before = issueKey(tenant);
        await().atMost(Duration.ofSeconds(30)).until(() -> onKeysTopic(before));
        long restartsBefore = restarts();
        assertThat(restartsBefore).as("the series is exported before this restart").isNotNegative();

        List<Thread> workers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("EventProcessor[" + AxonConfig.PUBLISHER + "]")).toList();
        assertThat(workers).as("the publisher's worker threads").isNotEmpty();
        workers.forEach(Thread::interrupt);
        String during = issueKey(tenant);

        await().atMost(Duration.ofSeconds(30)).until(() -> restarts() > restartsBefore);
        String after = issueKey(tenant);
        await().atMost(Duration.ofSeconds(30)).until(() -> onKeysTopic(during) && onKeysTopic(after));
        assertThat(publisher().isRunning()).isTrue();
        assertThat(supervisor.health().getStatus()).isEqualTo(Status.UP);
        assertThat(call("GET", "/health/liveness", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void aProcessorStoppedOnPurposeStaysStoppedWhileHeld() throws InterruptedException {
        supervisor.hold(AxonConfig.PUBLISHER);
        try {
            publisher().shutDown();
            supervisor.checkAll();
            Thread.sleep(1_500);
            assertThat(publisher().isRunning()).as("held: left stopped").isFalse();
            assertThat(supervisor.health().getStatus()).isEqualTo(Status.UP);
        } finally {
            supervisor.release(AxonConfig.PUBLISHER);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> publisher().isRunning());
    }
}
