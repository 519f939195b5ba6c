package dev.tollgate.gateway.state;

import dev.tollgate.billing.PriceBook;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.StateTopicRecords;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ledger's key and tenant state, the price lists, and the projector's quota state, read from
 * the compacted topics into memory by one background thread (never an event loop), so that
 * authenticating a request and checking its budgets touch no network. Every replica reads every
 * partition from the beginning without a consumer group. {@link #ready()} turns true once it has
 * read up to the end offsets it saw at start-up; a newer version of a record replaces an older one,
 * an older one is ignored, a tombstone deletes. Quota states are ordered by window, then version.
 */
public final class StateDirectory implements KeyLookup, QuotaLookup, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StateDirectory.class);

    private final Map<String, KeyState> keys = new ConcurrentHashMap<>();
    private final Map<String, TenantState> tenants = new ConcurrentHashMap<>();
    private final Map<String, QuotaState> quotas = new ConcurrentHashMap<>();
    private final Map<String, PriceListPublished> priceLists = new ConcurrentHashMap<>();
    /** Every plan's price lists, rebuilt by the reader thread when a list arrives and never changed once published here. */
    private volatile PriceBook priceBook = new PriceBook();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();
    /** One wait for Kafka's metadata, then the attempt fails and is retried. */
    static final Duration DEFAULT_METADATA_TIMEOUT = Duration.ofSeconds(30);
    static final Duration INITIAL_BACKOFF = Duration.ofMillis(500);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** No progress for this long means the reader is wedged (the liveness probe fails). */
    public static final Duration WEDGED_AFTER = Duration.ofMinutes(2);
    private final Duration metadataTimeout;
    private volatile long lastProgressNanos = System.nanoTime();
    private final Consumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean ready;
    private volatile boolean closed;

    private StateDirectory(Consumer<String, byte[]> consumer, Duration metadataTimeout) {
        this.consumer = consumer;
        this.metadataTimeout = metadataTimeout;
        this.thread = new Thread(this::run, "state-directory");
        this.thread.setDaemon(true);
    }

    /** Starts following the state topics of the cluster at {@code bootstrapServers}. */
    public static StateDirectory start(String bootstrapServers) {
        return start(bootstrapServers, DEFAULT_METADATA_TIMEOUT);
    }

    /**
     * As {@link #start(String)}; {@code metadataTimeout} bounds one wait for Kafka's metadata before the
     * attempt counts as failed and is retried (the reader never gives up).
     */
    public static StateDirectory start(String bootstrapServers, Duration metadataTimeout) {
        var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.CLIENT_ID_CONFIG, "gateway-state-directory",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000),
                new StringDeserializer(), new ByteArrayDeserializer());
        var directory = new StateDirectory(consumer, metadataTimeout);
        directory.thread.start();
        return directory;
    }

    /** The state consumer's client metrics (records-lag-max: how far this replica is behind the ledger). */
    public void bindTo(MeterRegistry registry) {
        new KafkaClientMetrics(consumer).bindTo(registry);
    }

    /** True once the state present at start-up has been read. */
    public boolean ready() {
        return ready;
    }

    @Override
    public Optional<KeyState> key(String keyId) {
        return Optional.ofNullable(keys.get(keyId));
    }

    @Override
    public Optional<TenantState> tenant(String tenantId) {
        return Optional.ofNullable(tenants.get(tenantId));
    }

    @Override
    public Optional<QuotaState> quota(String stateKey) {
        return Optional.ofNullable(quotas.get(stateKey));
    }

    @Override
    public PriceBook priceBook() {
        return priceBook;
    }

    /** Records that could not be parsed (skipped, counted). */
    public long malformedRecords() {
        return malformed.get();
    }

    /**
     * Supervises the reader: any failure (Kafka unreachable at start-up past {@code metadataTimeout},
     * a broken poll) is logged, counted and retried with backoff, for as long as the gateway runs. The
     * state read so far keeps serving meanwhile; readiness turns true once a pass has caught up.
     */
    private void run() {
        long backoffMs = INITIAL_BACKOFF.toMillis();
        try {
            while (!closed) {
                try {
                    follow();
                } catch (WakeupException e) {
                    if (closed) {
                        return;
                    }
                    failed(e, backoffMs);
                } catch (RuntimeException e) {
                    failed(e, backoffMs);
                }
                if (!closed) {
                    sleep(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF.toMillis());
                }
            }
        } finally {
            consumer.close();
        }
    }

    /** One pass: assign every partition, read from the beginning, then follow until closed or failed. */
    private void follow() {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(Topics.KEYS_STATE.name(), Topics.TENANTS_STATE.name(), Topics.QUOTA_STATE.name(),
                Topics.PRICELISTS_STATE.name())) {
            progress();
            for (PartitionInfo info : consumer.partitionsFor(topic, metadataTimeout)) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> startupEnd = consumer.endOffsets(partitions, metadataTimeout);
        while (!closed) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                apply(record);
            }
            progress();
            if (!ready && caughtUp(startupEnd)) {
                ready = true;
                LOG.info("state directory ready: {} keys, {} tenants", keys.size(), tenants.size());
            }
        }
    }

    private void failed(RuntimeException e, long backoffMs) {
        restarts.incrementAndGet();
        progress();
        LOG.error("state directory reader failed; it restarts in {} ms and the state read so far keeps serving", backoffMs, e);
    }

    private void progress() {
        lastProgressNanos = System.nanoTime();
    }

    /** Waits {@code millis}, or less if the directory is closed meanwhile. */
    private void sleep(long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        try {
            while (!closed && System.nanoTime() < until) {
                Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** How often the reader failed and was restarted (metric {@code tollgate_gateway_state_reader_restarts_total}). */
    public long restarts() {
        return restarts.get();
    }

    /**
     * False when the reader made no progress (no poll, no restart attempt) for longer than
     * {@link #WEDGED_AFTER}: the liveness probe fails then, and only then.
     */
    public boolean live() {
        return closed || System.nanoTime() - lastProgressNanos < WEDGED_AFTER.toNanos();
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        String topic = record.topic();
        try {
            if (topic.equals(Topics.KEYS_STATE.name())) {
                if (record.value() == null) {
                    keys.remove(record.key());
                } else {
                    KeyState state = (KeyState) StateTopicRecords.decode(topic, record.key(), record.value());
                    keys.merge(state.keyId(), state, StateDirectory::newer);
                }
            } else if (topic.equals(Topics.TENANTS_STATE.name())) {
                if (record.value() == null) {
                    tenants.remove(record.key());
                } else {
                    TenantState state = (TenantState) StateTopicRecords.decode(topic, record.key(), record.value());
                    tenants.merge(state.tenantId(), state, StateDirectory::newer);
                }
            } else if (topic.equals(Topics.QUOTA_STATE.name())) {
                if (record.value() == null) {
                    quotas.remove(record.key());
                } else {
                    QuotaState state = (QuotaState) StateTopicRecords.decode(topic, record.key(), record.value());
                    quotas.merge(state.stateKey(), state, StateDirectory::newerWindow);
                }
            } else if (topic.equals(Topics.PRICELISTS_STATE.name()) && record.value() != null) {
                PriceListPublished list = (PriceListPublished) StateTopicRecords.decode(topic, record.key(), record.value());
                if (priceLists.put(list.priceListId(), list) == null) {
                    priceBook = buildPriceBook();
                }
            }
        } catch (EventFormatException | IllegalArgumentException e) {
            malformed.incrementAndGet();
            LOG.warn("skipping malformed record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.getMessage());
        }
    }

    private PriceBook buildPriceBook() {
        var book = new PriceBook();
        priceLists.values().forEach(book::add);
        return book;
    }

    /** A later window wins; within a window, the higher version. */
    private static QuotaState newerWindow(QuotaState current, QuotaState candidate) {
        int byWindow = candidate.windowStart().compareTo(current.windowStart());
        return byWindow > 0 || byWindow == 0 && candidate.version() >= current.version() ? candidate : current;
    }

    private static <S extends StateRecord> S newer(S current, S candidate) {
        return candidate.version() >= current.version() ? candidate : current;
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (var entry : end.entrySet()) {
            if (consumer.position(entry.getKey()) < entry.getValue()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
