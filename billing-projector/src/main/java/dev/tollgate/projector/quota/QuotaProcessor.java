package dev.tollgate.projector.quota;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.PlanHistory;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.projector.stream.ProjectorMetrics;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.quota.QuotaThresholdCrossed;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Counts each tenant's and each key's usage per day and per billing period (tokens, and spend at the
 * price in force at each event's time) and publishes {@link QuotaState} records: at most one per
 * window every {@code emitIntervalMs} (the latest), with the status against the tenant's and key's
 * limits. Spend is accumulated exactly (a decimal of micro-units) and reported rounded down, so a
 * quota never claims more than was spent; invoices round once per line (ADR 0003).
 *
 * <p>Tenants, keys and price schedules come from {@link QuotaLookups} (the projector backs them with
 * global stores of the ledger's state topics). The usage
 * per window lives in a key-value store ({@code tokens spend version} per window), so a restart
 * continues counting; a state computed but not yet emitted when a task stops is emitted again with
 * the next event of its window.
 */
public final class QuotaProcessor implements Processor<String, Object, String, Object> {
    /**
     * A usage event with the CloudEvents source that produced it (a gateway replica) and, for a tenant whose mode burns credit,
     * what the billing step's burn did ({@code burned}, else null): this processor publishes its state and balance alerts.
     */
    public record Sourced(BillableUsage usage, String source, CreditBalances.Burned burned) {}

    /** Child that receives the quota states. */
    public static final String TO_STATE = "quota-state";
    /** Child that receives the threshold alerts (CloudEvents). */
    public static final String TO_ALERTS = "quota-alerts";
    private static final int[] THRESHOLDS = {50, 80, 100};
    /** Of a prepaid balance: 20 %, 5 % and nothing left. */
    private static final int[] CREDIT_THRESHOLDS = {80, 95, 100};
    /** The windows of day and period limits; the CREDIT window is the prepaid balance ({@link CreditBalances}). */
    private static final List<QuotaState.Window> LIMIT_WINDOWS = List.of(QuotaState.Window.DAY, QuotaState.Window.BILLING_PERIOD);

    private final String storeName;
    private final Duration emitInterval;
    private final QuotaLookups lookups;
    /** Computed states not emitted yet, by state key: only the latest per window is sent. */
    private final Map<String, QuotaState> pending = new LinkedHashMap<>();
    private KeyValueStore<String, String> usage;
    private ProcessorContext<String, Object> context;

    private final ProjectorMetrics metrics;

    public QuotaProcessor(String storeName, Duration emitInterval, QuotaLookups lookups) {
        this(storeName, emitInterval, lookups, ProjectorMetrics.NONE);
    }

    public QuotaProcessor(String storeName, Duration emitInterval, QuotaLookups lookups, ProjectorMetrics metrics) {
        this.storeName = storeName;
        this.emitInterval = emitInterval;
        this.lookups = lookups;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.usage = context.getStateStore(storeName);
        lookups.init(context);
        context.schedule(emitInterval, PunctuationType.WALL_CLOCK_TIME, now -> flush());
    }

    @Override
    public void process(Record<String, Object> record) {
        BillableUsage event = record.value() instanceof Sourced sourced ? sourced.usage() : (BillableUsage) record.value();
        String source = record.value() instanceof Sourced sourced ? sourced.source() : null;
        CreditBalances.Burned burned = record.value() instanceof Sourced sourced ? sourced.burned() : null;
        TenantState tenant = lookups.tenant(event.tenantId());
        ZoneId zone = tenant == null ? ZoneId.of("UTC") : ZoneId.of(tenant.billingTimeZone());
        long tokens = event.uncachedPrompt() + event.cachedPrompt() + event.completion();
        BigDecimal spend = spendOf(event, tenant);
        KeyState key = event.keyId() == null ? null : lookups.key(event.keyId());
        for (QuotaState.Window window : LIMIT_WINDOWS) {
            Instant[] bounds = QuotaWindows.bounds(window, event.time(), zone);
            add(event.tenantId(), null, window, bounds, tokens, spend, tenant == null ? null : tenant.limits(), event.time(), source);
            if (event.keyId() != null) {
                add(event.tenantId(), event.keyId(), window, bounds, tokens, spend, key == null ? null : key.limits(), event.time(), source);
            }
        }
        if (burned != null) {
            pending.put(burned.state().stateKey(), burned.state());
            // 20 %, 5 % and nothing left of the credit that can pay; a top-up (more credit) arms the thresholds again.
            alerts(event.tenantId(), null, QuotaState.Window.CREDIT, QuotaState.CREDIT_WINDOW_START, "credit", burned.creditMicros(),
                    burned.creditMicros() - burned.remainingBeforeMicros(), burned.creditMicros() - burned.remainingMicros(),
                    burned.prepaid() ? "HARD" : "SOFT", event.time(),
                    CREDIT_THRESHOLDS, "|" + burned.creditMicros());
        }
    }

    private BigDecimal spendOf(BillableUsage event, TenantState tenant) {
        PriceSchedule.ModelRates rates = lookups.priceBook().ratesAt(PlanHistory.of(tenant), event.model(), event.time()).orElse(null);
        if (rates == null) {
            return BigDecimal.ZERO;
        }
        return UsageBilling.exactAmountMicros(event, rates);
    }

    private void add(String tenantId, String keyId, QuotaState.Window window, Instant[] bounds, long tokens, BigDecimal spend,
                     Limits limits, Instant eventTime, String source) {
        String storeKey = QuotaState.stateKey(tenantId, keyId, window) + "@" + bounds[0];
        String previous = usage.get(storeKey);
        long usedTokens = tokens;
        BigDecimal usedSpend = spend;
        long version = 1;
        var sources = new TreeMap<String, Instant>();
        long previousTokens = 0;
        long previousSpend = 0;
        if (previous != null) {
            String[] parts = previous.split(" ", 4);
            previousTokens = Long.parseLong(parts[0]);
            previousSpend = new BigDecimal(parts[1]).longValue();
            usedTokens += previousTokens;
            usedSpend = usedSpend.add(new BigDecimal(parts[1]));
            version = Long.parseLong(parts[2]) + 1;
            if (parts.length > 3) {
                sources.putAll(decodeSources(parts[3]));
            }
        }
        if (source != null) {
            sources.merge(source, eventTime, (a, b) -> a.isAfter(b) ? a : b);
        }
        usage.put(storeKey, usedTokens + " " + usedSpend.toPlainString() + " " + version + " " + encodeSources(sources));
        Long tokenLimit = limits == null || window != QuotaState.Window.DAY ? null : limits.tokensPerDay();
        Long spendLimit = limits == null || window != QuotaState.Window.BILLING_PERIOD ? null : limits.spendPerPeriodMicros();
        long spendMicros = usedSpend.longValue(); // rounded down
        QuotaState.Status status = status(usedTokens, tokenLimit, spendMicros, spendLimit,
                limits == null ? null : limits.spendLimitMode());
        if (tokenLimit != null) {
            alerts(tenantId, keyId, window, bounds[0], "tokens", tokenLimit, previousTokens, usedTokens, "HARD", eventTime, THRESHOLDS, "");
        }
        if (spendLimit != null) {
            alerts(tenantId, keyId, window, bounds[0], "spend", spendLimit, previousSpend, spendMicros,
                    limits.spendLimitMode() == Limits.SpendLimitMode.SOFT ? "SOFT" : "HARD", eventTime, THRESHOLDS, "");
        }
        pending.put(QuotaState.stateKey(tenantId, keyId, window), new QuotaState(tenantId, keyId, window, bounds[0], bounds[1],
                usedTokens, spendMicros, tokenLimit, spendLimit, status, eventTime, version, sources.isEmpty() ? null : sources));
    }

    /**
     * One alert per threshold crossed by this event, with an id derived from the budget, window and
     * threshold: a reprocessed event produces the very same alert, which consumers deduplicate.
     */
    private void alerts(String tenantId, String keyId, QuotaState.Window window, Instant windowStart, String budget, long limit,
                        long before, long after, String mode, Instant eventTime, int[] thresholds, String idSuffix) {
        for (int threshold : thresholds) {
            BigInteger line = BigInteger.valueOf(limit).multiply(BigInteger.valueOf(threshold));
            boolean wasBelow = BigInteger.valueOf(before).multiply(BigInteger.valueOf(100)).compareTo(line) < 0;
            boolean isAtOrAbove = BigInteger.valueOf(after).multiply(BigInteger.valueOf(100)).compareTo(line) >= 0;
            if (wasBelow && isAtOrAbove && limit > 0) {
                String stateKey = QuotaState.stateKey(tenantId, keyId, window);
                String id = UUID.nameUUIDFromBytes((stateKey + "|" + windowStart + "|" + budget + "|" + threshold + idSuffix)
                        .getBytes(StandardCharsets.UTF_8)).toString();
                var alert = CloudEvent.withId(id, EventType.QUOTA_THRESHOLD_CROSSED, "/billing-projector", eventTime, stateKey, null,
                        new QuotaThresholdCrossed(tenantId, keyId, window, windowStart, budget, limit, after, threshold, mode));
                context.forward(new Record<>(tenantId, (Object) alert, context.currentSystemTimeMs()), TO_ALERTS);
            }
        }
    }

    /** {@code source=epochMillis} pairs joined by tabs (sources are URIs: never a tab or an equals sign at the end). */
    private static String encodeSources(Map<String, Instant> sources) {
        var joined = new StringBuilder();
        sources.forEach((source, time) -> joined.append(joined.isEmpty() ? "" : "\t").append(source).append('=').append(time.toEpochMilli()));
        return joined.toString();
    }

    private static Map<String, Instant> decodeSources(String encoded) {
        var sources = new TreeMap<String, Instant>();
        if (!encoded.isEmpty()) {
            for (String pair : encoded.split("\t")) {
                int eq = pair.lastIndexOf('=');
                sources.put(pair.substring(0, eq), Instant.ofEpochMilli(Long.parseLong(pair.substring(eq + 1))));
            }
        }
        return sources;
    }

    static QuotaState.Status status(long tokens, Long tokenLimit, long spend, Long spendLimit, Limits.SpendLimitMode mode) {
        if (tokenLimit != null && tokens >= tokenLimit) {
            return QuotaState.Status.EXHAUSTED;
        }
        if (spendLimit != null && spend >= spendLimit) {
            return mode == Limits.SpendLimitMode.SOFT ? QuotaState.Status.SOFT_LIMIT : QuotaState.Status.EXHAUSTED;
        }
        return QuotaState.Status.OK;
    }

    private void flush() {
        long now = context.currentSystemTimeMs();
        if (pending.isEmpty()) {
            return;
        }
        Instant newest = null;
        for (QuotaState state : pending.values()) {
            context.forward(new Record<>(state.stateKey(), (Object) state, now), TO_STATE);
            newest = newest == null || state.asOf().isAfter(newest) ? state.asOf() : newest;
        }
        metrics.quotaStatesEmitted(pending.size(), newest);
        pending.clear();
    }

    @Override
    public void close() {
        pending.clear();
    }
}
