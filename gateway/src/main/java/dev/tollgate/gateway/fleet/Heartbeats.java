package dev.tollgate.gateway.fleet;

import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * This replica's membership of the gateway fleet (ADR 0020): one background thread (never an event
 * loop) sends this replica's heartbeat every interval to {@code gateways.heartbeats.v1} and reads
 * everyone's, from the beginning of the compacted topic, into a {@link FleetView} that admission
 * reads without touching the network. A peer whose newest heartbeat is older than
 * {@link GatewayHeartbeat#expiresAfter()} is gone; a stopping replica writes a tombstone. Until this
 * replica reads its own heartbeat back (at start, or when Kafka is unreachable) the fleet counts at
 * least {@code configuredReplicas}, so that an outage of the channel makes every replica stricter,
 * never looser.
 */
public final class Heartbeats implements Supplier<FleetView>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

    private final String self;
    private final int configuredReplicas;
    private final Duration interval;
    private final Clock clock;
    private final Producer<String, byte[]> producer;
    private final Consumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile FleetMember member;
    private volatile Supplier<List<GatewayHeartbeat.Balance>> balances = List::of;
    private volatile FleetView view;
    private volatile boolean closed;
    private final AtomicLong failures = new AtomicLong();

    /** The newest heartbeat of every replica heard (this one included), by replica. */
    private final Map<String, GatewayHeartbeat> latest = new HashMap<>();
    /** What each peer had borrowed, by subject, when last heard: the next heartbeat's increase is repaid. */
    private final Map<String, Map<String, Long>> borrowed = new HashMap<>();
    private Instant selfHeardSentAt;
    private long version;

    private Heartbeats(String bootstrapServers, String self, int configuredReplicas, Duration interval, Clock clock) {
        this.self = self;
        this.configuredReplicas = Math.max(1, configuredReplicas);
        this.interval = interval;
        this.clock = clock;
        this.view = FleetView.fixed(this.configuredReplicas);
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                // A heartbeat is worth its interval: one broker's acknowledgement, no long retries.
                ProducerConfig.ACKS_CONFIG, "1", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) interval.toMillis(), ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 5_000, ProducerConfig.CLIENT_ID_CONFIG, "gateway-heartbeat-" + self),
                new StringSerializer(), new ByteArraySerializer());
        this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.CLIENT_ID_CONFIG, "gateway-heartbeats-" + self),
                new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, "fleet-heartbeats");
        this.thread.setDaemon(true);
    }

    /**
     * Starts sending this replica's heartbeat and following the fleet's.
     *
     * @param self               this replica's id (its events' source name)
     * @param configuredReplicas the fleet size assumed while the heartbeats are not heard
     */
    public static Heartbeats start(String bootstrapServers, String self, int configuredReplicas, Duration interval, Clock clock) {
        var heartbeats = new Heartbeats(bootstrapServers, self, configuredReplicas, interval, clock);
        heartbeats.thread.start();
        return heartbeats;
    }

    /** The prepaid balances this replica's heartbeats carry from now on (the budgets' in flight, ADR 0027). */
    public void reportBalances(Supplier<List<GatewayHeartbeat.Balance>> balances) {
        this.balances = balances;
    }

    /** What this replica's heartbeats carry from now on (the rate limits; until then, nothing). */
    public void serve(FleetMember member) {
        this.member = member;
    }

    @Override
    public FleetView get() {
        return view;
    }

    public String self() {
        return self;
    }

    /** Heartbeat sends and reads that failed since start (each is logged). */
    public long failures() {
        return failures.get();
    }

    private void run() {
        var partition = new TopicPartition(Topics.GATEWAY_HEARTBEATS.name(), 0);
        long nextBeat = 0;
        while (!closed) {
            try {
                if (consumer.assignment().isEmpty()) {
                    consumer.assign(List.of(partition));
                    consumer.seekToBeginning(List.of(partition));
                }
                long now = System.nanoTime();
                if (now >= nextBeat) {
                    send();
                    nextBeat = now + interval.toNanos();
                }
                long waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextBeat - System.nanoTime()));
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(Math.min(waitMs, 200)))) {
                    apply(record);
                }
                publish();
            } catch (WakeupException e) {
                if (closed) {
                    break;
                }
            } catch (RuntimeException e) {
                failures.incrementAndGet();
                LOG.warn("fleet heartbeat failed; the fleet view ages out towards the configured size: {}", e.toString());
                publish();
                pause(interval.toMillis());
            }
        }
    }

    private void send() {
        FleetMember m = member;
        var heartbeat = new GatewayHeartbeat(self, clock.instant(), interval.toMillis(), m == null ? List.of() : m.report(), balances.get());
        producer.send(new ProducerRecord<>(Topics.GATEWAY_HEARTBEATS.name(), self, EventCodec.encodeState(heartbeat)), (metadata, error) -> {
            if (error != null) {
                failures.incrementAndGet();
            }
        });
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        String replica = record.key();
        if (replica == null) {
            return;
        }
        if (record.value() == null) {
            latest.remove(replica);
            borrowed.remove(replica);
            return;
        }
        GatewayHeartbeat heartbeat;
        try {
            heartbeat = EventCodec.decodeState(record.value(), GatewayHeartbeat.class);
        } catch (EventFormatException | IllegalArgumentException e) {
            failures.incrementAndGet();
            LOG.warn("skipping malformed heartbeat {}@{}: {}", record.partition(), record.offset(), e.getMessage());
            return;
        }
        if (!replica.equals(heartbeat.replica())) {
            return;
        }
        GatewayHeartbeat previous = latest.get(replica);
        if (previous != null && previous.sentAt().isAfter(heartbeat.sentAt())) {
            return;
        }
        latest.put(replica, heartbeat);
        if (replica.equals(self)) {
            selfHeardSentAt = heartbeat.sentAt();
            return;
        }
        repayBorrowing(replica, heartbeat, previous != null);
    }

    /** Repays this replica's part of what {@code replica} borrowed since its previous heartbeat (none for the first one heard). */
    private void repayBorrowing(String replica, GatewayHeartbeat heartbeat, boolean heardBefore) {
        Map<String, Long> before = borrowed.computeIfAbsent(replica, r -> new HashMap<>());
        FleetMember m = member;
        boolean live = alive(heartbeat, clock.instant());
        for (GatewayHeartbeat.Subject s : heartbeat.subjects()) {
            Long last = before.put(s.subject(), s.borrowedTokens());
            long since = last != null ? last : heardBefore ? 0 : s.borrowedTokens();
            if (m != null && live && s.borrowedTokens() > since) {
                m.repay(s.subject(), s.borrowedTokens() - since, s.tokenShare());
            }
        }
    }

    private boolean alive(GatewayHeartbeat heartbeat, Instant now) {
        return heartbeat.sentAt().plus(heartbeat.expiresAfter()).isAfter(now);
    }

    /** Replaces the view when the live fleet or what it reports changed. */
    private void publish() {
        Instant now = clock.instant();
        var peers = new HashMap<String, Map<String, GatewayHeartbeat.Subject>>();
        for (GatewayHeartbeat heartbeat : latest.values()) {
            if (!heartbeat.replica().equals(self) && alive(heartbeat, now)) {
                var subjects = new HashMap<String, GatewayHeartbeat.Subject>();
                heartbeat.subjects().forEach(s -> subjects.put(s.subject(), s));
                peers.put(heartbeat.replica(), subjects);
            }
        }
        boolean heard = selfHeardSentAt != null && selfHeardSentAt.plus(interval.multipliedBy(GatewayHeartbeat.MISSED_INTERVALS)).isAfter(now);
        int size = heard ? peers.size() + 1 : Math.max(configuredReplicas, peers.size() + 1);
        FleetView current = view;
        if (current.size() != size || !current.peers().equals(peers)) {
            view = new FleetView(size, peers, ++version);
        }
    }

    private void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** Stops: a tombstone tells the fleet at once that this replica is gone. */
    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            producer.send(new ProducerRecord<>(Topics.GATEWAY_HEARTBEATS.name(), self, null)).get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("could not write this replica's heartbeat tombstone; the fleet drops it when its heartbeat expires: {}", e.toString());
        }
        producer.close(Duration.ofSeconds(2));
        consumer.close(Duration.ofSeconds(2));
    }
}
