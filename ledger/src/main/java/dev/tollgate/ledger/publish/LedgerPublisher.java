package dev.tollgate.ledger.publish;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tollgate.ledger.config.AxonConfig;
import dev.tollgate.ledger.config.LedgerProperties;
import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.KeyExpired;
import dev.tollgate.schemas.ledger.KeyIssued;
import dev.tollgate.schemas.ledger.KeyRevoked;
import dev.tollgate.schemas.ledger.KeyRotated;
import dev.tollgate.schemas.ledger.LimitsSet;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.ledger.TenantReinstated;
import dev.tollgate.schemas.ledger.TenantSuspended;
import dev.tollgate.schemas.ledger.WebhookConfigured;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.TrackingToken;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Follows the event store with a tracking processor and, for each event, in one database
 * transaction with the processor's token: updates the read model, publishes the event as a
 * CloudEvent to {@code ledger.events.v1}, and publishes the new state of every tenant and key it
 * touched (and every price list) to the compacted state topics. The sends complete before the token moves, so a crash
 * never leaves a gap; and an event the topic already holds (sent before a crash that came before the
 * token's commit) is not sent again: {@link PublishedTail}. A token reset replays everything and
 * rebuilds the read model and the state topics (ledger.events.v1 gets the older events again, under
 * their ids).
 */
@Component
@ProcessingGroup(AxonConfig.PUBLISHER)
public class LedgerPublisher {
    private static final Map<Class<?>, EventType> LEDGER_TYPES = Arrays.stream(EventType.values())
            .filter(type -> type.topic().equals(Topics.LEDGER_EVENTS))
            .collect(Collectors.toUnmodifiableMap(EventType::dataClass, Function.identity()));

    private final ReadModel readModel;
    private final Producer<String, byte[]> producer;
    private final LedgerProperties properties;

    private static final long UNKNOWN = Long.MIN_VALUE;
    /** Shorter than Axon's token claim timeout (10 s): a claim taken over by another replica always shows as a longer pause. */
    private static final Duration CLAIM_CHANGE_PAUSE = Duration.ofSeconds(5);
    private final PublishedTail tail;
    /** Ids at the end of ledger.events.v1 when last read; null before the first event (one segment: indexes come in order). */
    private volatile Set<String> recentlyPublished;
    private volatile long lastHandled = UNKNOWN;
    private volatile long lastHandledAt;

    public LedgerPublisher(ReadModel readModel, Producer<String, byte[]> producer, LedgerProperties properties) {
        this.readModel = readModel;
        this.producer = producer;
        this.properties = properties;
        this.tail = new PublishedTail(properties.kafka().bootstrapServers());
    }

    @EventHandler
    public void on(Object payload, EventMessage<?> message, TrackingToken token)
            throws JsonProcessingException {
        EventType type = LEDGER_TYPES.get(payload.getClass());
        if (type == null) {
            return; // not a ledger domain event
        }
        EventData data = (EventData) payload;
        // The global position is monotonic over the whole store: a state record's version.
        long version = token.position().orElseThrow(() -> new IllegalStateException("token without position: " + token));
        Instant at = message.getTimestamp();
        List<StateRecord> states = project(data, version, at);

        var sends = new ArrayList<Future<RecordMetadata>>();
        Object traceparent = message.getMetaData().get("traceparent");
        CloudEvent<EventData> event = CloudEvent.withId(message.getIdentifier(), type,
                "/ledger/" + properties.instanceId(), at, subject(data), traceparent == null ? null : traceparent.toString(), data);
        if (!alreadyPublished(version, message.getIdentifier())) {
            var record = new ProducerRecord<>(Topics.LEDGER_EVENTS.name(), data.tenantId(), EventCodec.encode(event));
            record.headers().add(PublishedTail.EVENT_ID_HEADER, message.getIdentifier().getBytes(StandardCharsets.UTF_8));
            sends.add(producer.send(record));
        }
        if (data instanceof PriceListPublished priceList) {
            sends.add(producer.send(new ProducerRecord<>(Topics.PRICELISTS_STATE.name(), priceList.priceListId(),
                    EventCodec.mapper().writeValueAsBytes(priceList))));
        }
        for (StateRecord state : states) {
            String topic = state instanceof KeyState ? Topics.KEYS_STATE.name() : Topics.TENANTS_STATE.name();
            sends.add(producer.send(new ProducerRecord<>(topic, state.stateKey(), EventCodec.encodeState(state))));
        }
        awaitAll(sends);
    }

    /**
     * True when the end of ledger.events.v1 already holds event {@code id}: sent before a crash or a
     * failed token commit, and handled again now. The end of the topic is read after a (re)start,
     * when the processor goes back (a retried batch, a reset) and after a pause long enough for another
     * replica to have held the claim; in between, every event handled is new to the topic. A reset
     * replays events older than the end of the topic: those are sent again under their ids (ADR 0006).
     * State records need no such check: they carry the store position as their version.
     */
    private boolean alreadyPublished(long index, String id) {
        long now = System.nanoTime();
        if (recentlyPublished == null || index <= lastHandled || now - lastHandledAt > CLAIM_CHANGE_PAUSE.toNanos()) {
            recentlyPublished = tail.recentEventIds(properties.kafka().sendTimeout());
        }
        lastHandled = index;
        lastHandledAt = now;
        return recentlyPublished.contains(id);
    }

    @ResetHandler
    public void onReset() {
        readModel.clear();
    }

    /** Applies the event to the read model and returns the states it changed. */
    private List<StateRecord> project(EventData data, long version, Instant at) {
        return switch (data) {
            case TenantCreated e -> {
                readModel.createTenant(e, version, at);
                yield tenant(e.tenantId());
            }
            case TenantSuspended e -> {
                readModel.updateTenant(e.tenantId(), "status", "SUSPENDED", version, at);
                yield tenant(e.tenantId());
            }
            case TenantReinstated e -> {
                readModel.updateTenant(e.tenantId(), "status", "ACTIVE", version, at);
                yield tenant(e.tenantId());
            }
            case PlanAssigned e -> {
                readModel.assignPlan(e, version, at);
                yield tenant(e.tenantId());
            }
            case LimitsSet e when e.keyId() == null -> {
                readModel.updateTenant(e.tenantId(), "own_limits", ReadModel.json(e.limits()), version, at);
                yield tenant(e.tenantId());
            }
            case LimitsSet e -> {
                readModel.setKeyLimits(e.keyId(), e.limits(), version, at);
                yield key(e.keyId());
            }
            case PlanDefined e -> {
                readModel.upsertPlan(e, at);
                // Effective limits of every tenant on the plan changed, and the billing modes of every tenant ever on it or
                // scheduled for it: republish them, newest version.
                yield readModel.tenantsOnPlan(e.planId()).stream()
                        .map(t -> (StateRecord) new TenantState(t.tenantId(), t.name(), t.status(),
                                t.planId(), t.billingTimeZone(), t.currency(), t.limits(), t.webhookUrl(), t.webhookSecretVersion(), version, at,
                                t.plans(), t.allowUnpricedUsage(), t.billingModes(), t.credits()))
                        .toList();
            }
            case WebhookConfigured e -> {
                readModel.setWebhook(e.tenantId(), e.url(), e.secretVersion(), version, at);
                yield tenant(e.tenantId());
            }
            case CreditGranted e -> {
                readModel.grantCredit(e, version, at);
                yield tenant(e.tenantId());
            }
            case CreditVoided e -> {
                readModel.voidCredit(e, version, at);
                yield tenant(e.tenantId());
            }
            case CreditReduced e -> {
                readModel.reduceCredit(e, version, at);
                yield tenant(e.tenantId());
            }
            case BillingModeSet e -> {
                readModel.setBillingMode(e, version, at);
                yield tenant(e.tenantId());
            }
            case BillingModeCleared e -> {
                readModel.clearBillingMode(e, version, at);
                yield tenant(e.tenantId());
            }
            case PriceListPublished e -> {
                readModel.insertPriceList(e);
                yield List.of();
            }
            case KeyIssued e -> {
                readModel.insertKey(e, version, at);
                yield key(e.keyId());
            }
            case KeyRotated e -> {
                readModel.rotateKey(e.keyId(), e.newSecretHash(), e.previousSecretValidUntil(), version, at);
                yield key(e.keyId());
            }
            case KeyRevoked e -> {
                readModel.endKey(e.keyId(), KeyState.Status.REVOKED, version, at);
                yield key(e.keyId());
            }
            case KeyExpired e -> {
                readModel.endKey(e.keyId(), KeyState.Status.EXPIRED, version, at);
                yield key(e.keyId());
            }
            default -> throw new IllegalStateException("no projection for " + data.getClass().getSimpleName());
        };
    }

    private List<StateRecord> tenant(String tenantId) {
        return readModel.tenant(tenantId).<List<StateRecord>>map(List::of).orElse(List.of());
    }

    private List<StateRecord> key(String keyId) {
        return readModel.key(keyId).<List<StateRecord>>map(List::of).orElse(List.of());
    }

    private static String subject(EventData data) {
        return switch (data) {
            case KeyIssued e -> e.keyId();
            case KeyRotated e -> e.keyId();
            case KeyRevoked e -> e.keyId();
            case KeyExpired e -> e.keyId();
            case LimitsSet e when e.keyId() != null -> e.keyId();
            case PlanDefined e -> e.planId();
            case PriceListPublished e -> e.priceListId();
            default -> data.tenantId();
        };
    }

    /** Publishes a tenant's state that changed without an event (a scheduled plan took effect), and waits for the broker. */
    public void republish(TenantState state) {
        awaitAll(List.of(producer.send(new ProducerRecord<>(Topics.TENANTS_STATE.name(), state.stateKey(), EventCodec.encodeState(state)))));
    }

    private void awaitAll(List<Future<RecordMetadata>> sends) {
        long deadline = System.nanoTime() + properties.kafka().sendTimeout().toNanos();
        for (Future<RecordMetadata> send : sends) {
            try {
                send.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while publishing", e);
            } catch (ExecutionException | TimeoutException e) {
                // Propagates: the transaction rolls back and the processor retries this event.
                throw new IllegalStateException("publishing to Kafka failed; will retry", e);
            }
        }
    }
}
