package dev.tollgate.gateway.quota;

import dev.tollgate.billing.BillingPeriod;
import dev.tollgate.billing.PlanHistory;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageBilling;
import dev.tollgate.billing.UsageCounts;
import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.gateway.state.QuotaLookup;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Daily token and per-period spend budgets, per tenant and per key (ADR 0009). The projector's
 * {@code quota.state.v1} says what the whole fleet used, and up to which event time of each gateway
 * replica; this replica adds its own usage that the state does not reflect yet (what it settled
 * after its own watermark, plus what its requests in flight have reserved or streamed) and may spend at most
 * {@code 1/replicas} of what the state says is left, with the live fleet's size (ADR 0020). A request is admitted only if its reservation
 * (prompt estimate + max_tokens) fits that share; a stream is cut as soon as its tokens make the
 * share run out. A soft spend limit never refuses: it flags the answer.
 */
public final class Budgets {
    /**
     * With a projector that does not report per-source watermarks: own usage this much older than
     * the state's {@code asOf} is taken as reflected in it (larger is safer and refuses earlier).
     */
    public static final Duration REFLECTION_MARGIN = Duration.ofSeconds(1);
    private static final Logger LOG = LoggerFactory.getLogger(Budgets.class);

    private final QuotaLookup quotas;
    private final KeyLookup directory;
    private final String source;
    private final IntSupplier replicas;
    private final Supplier<Instant> clock;
    private final Map<String, Local> local = new ConcurrentHashMap<>();

    /** What this replica used of one budget and has not seen in the state yet. */
    private static final class Local {
        /** [event time millis, amount] of settled requests, oldest first. */
        final ArrayDeque<long[]> settled = new ArrayDeque<>();
        /** Reserved (or, when more, streamed) amount of the requests in flight. */
        long inFlightHeld;
        /** Streamed so far by the requests in flight. */
        long inFlightUsed;

        long settledAfter(long fromMillis) {
            long sum = 0;
            for (long[] entry : settled) {
                if (entry[0] > fromMillis) {
                    sum += entry[1];
                }
            }
            return sum;
        }

        void prune(long beforeMillis) {
            while (!settled.isEmpty() && settled.peekFirst()[0] <= beforeMillis) {
                settled.pollFirst();
            }
        }
    }

    /**
     * One budget that applies to a request: a day's tokens or a period's spend, of the tenant or the key,
     * or the tenant's prepaid balance ({@code credits} non-null: what is left of them for {@code model}, ADR 0027).
     */
    private record Budget(String stateKey, boolean spend, long limit, boolean soft, Instant windowStart, List<CreditGrant> credits,
                          String model, Endpoint endpoint) {
        Budget(String stateKey, boolean spend, long limit, boolean soft, Instant windowStart) {
            this(stateKey, spend, limit, soft, windowStart, null, null, null);
        }

        boolean balance() {
            return credits != null;
        }

        /** "tenant-spend", "key-tokens", "tenant-credit": the soft-limit header's words. */
        String label() {
            return balance() ? "tenant-credit" : (stateKey.contains("/*/") ? "tenant" : "key") + (spend ? "-spend" : "-tokens");
        }
    }

    /**
     * Why a request is refused; {@code prepaid} when the tenant's balance cannot cover it (HTTP 402), with what is left of
     * it fleet-wide as this replica sees it.
     */
    public record Refusal(String subject, String message, long retryAfterSeconds, boolean prepaid, long balanceMicros) {
        public Refusal(String subject, String message, long retryAfterSeconds) {
            this(subject, message, retryAfterSeconds, false, 0);
        }
    }

    /** A prepaid or hybrid tenant's balance as this replica sees it: the state's less its own usage the state does not show yet. */
    public record Balance(long remainingMicros, String currency) {}

    /** An admitted request's hold on its budgets. */
    public final class Hold {
        private final List<Budget> budgets;
        private final long promptEstimate;
        private final PriceSchedule.ModelRates rates;
        private final List<String> softLimited;
        /** Per budget: what this request holds (its reservation, or its usage once that is more) and uses so far. */
        private final long[] held;
        private final long[] used;
        private long streamed;
        private boolean settled;

        private Hold(List<Budget> budgets, long[] held, long promptEstimate, PriceSchedule.ModelRates rates, List<String> softLimited) {
            this.budgets = budgets;
            this.held = held;
            this.used = new long[held.length];
            this.promptEstimate = promptEstimate;
            this.rates = rates;
            this.softLimited = softLimited;
        }

        /** The budgets over a soft limit ("tenant-spend", "key-spend"), for the response header. */
        public List<String> softLimited() {
            return softLimited;
        }

        /**
         * Counts {@code completionTokens} more streamed tokens (the prompt estimate counts from the
         * start); true if a hard budget is now used up and the stream must end.
         */
        public boolean onTokens(long completionTokens) {
            Instant now = clock.get();
            streamed += completionTokens;
            boolean exhausted = false;
            for (int i = 0; i < budgets.size(); i++) {
                Budget b = budgets.get(i);
                long nowUsed = b.spend() ? UsageBilling.upperBoundMicros(promptEstimate, streamed, rates) : promptEstimate + streamed;
                Local l = local.computeIfAbsent(b.stateKey(), k -> new Local());
                synchronized (l) {
                    l.inFlightUsed += nowUsed - used[i];
                    used[i] = nowUsed;
                    if (used[i] > held[i]) {
                        l.inFlightHeld += used[i] - held[i];
                        held[i] = used[i];
                    }
                    if (!b.soft() && l.inFlightUsed + settled(l, b, now) >= allowance(b, now)) {
                        exhausted = true;
                    }
                }
            }
            return exhausted;
        }

        /** Ends the hold with what the request's usage events bill in all, stamped with its terminal event's time. */
        public void settle(UsageCounts billed, Instant eventTime) {
            if (settled) {
                return;
            }
            settled = true;
            for (int i = 0; i < budgets.size(); i++) {
                Budget b = budgets.get(i);
                long amount = b.spend() ? UsageBilling.budgetMicros(billed, rates) : billed.totalTokens();
                Local l = local.computeIfAbsent(b.stateKey(), k -> new Local());
                synchronized (l) {
                    l.inFlightHeld -= held[i];
                    l.inFlightUsed -= used[i];
                    l.settled.addLast(new long[]{eventTime.toEpochMilli(), amount});
                }
            }
        }
    }

    /**
     * @param source this replica's CloudEvents source (its usage events'): the state's watermark for it
     *               says up to when this replica's own usage is counted
     */
    public Budgets(QuotaLookup quotas, KeyLookup directory, String source, int replicas, Supplier<Instant> clock) {
        this(quotas, directory, source, fixed(replicas), clock);
    }

    /** @param replicas the live fleet's size, read at every admission */
    public Budgets(QuotaLookup quotas, KeyLookup directory, String source, IntSupplier replicas, Supplier<Instant> clock) {
        this.quotas = quotas;
        this.directory = directory;
        this.source = source;
        this.replicas = replicas;
        this.clock = clock;
    }

    private static IntSupplier fixed(int replicas) {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1");
        }
        return () -> replicas;
    }

    /**
     * Admits a request to {@code endpoint} that reserves {@code promptEstimate + maxTokens} tokens of {@code model}, or
     * refuses it; returns a {@link Hold} or a {@link Refusal}.
     */
    public Object admit(Principal principal, String model, Endpoint endpoint, long promptEstimate, long maxTokens) {
        Instant now = clock.get();
        TenantState tenant = directory.tenant(principal.tenantId()).orElse(null);
        ZoneId zone = ZoneId.of(tenant == null ? "UTC" : tenant.billingTimeZone());
        PriceSchedule.ModelRates rates = quotas.priceBook().ratesAt(PlanHistory.of(tenant), model, now).orElse(null);
        var budgets = new ArrayList<Budget>(4);
        addBudgets(budgets, principal.tenantId(), null, principal.tenantLimits(), zone, now, rates);
        addBudgets(budgets, principal.tenantId(), principal.keyId(), principal.keyLimits(), zone, now, rates);
        BillingMode mode = CreditBurn.modeAt(tenant, now);
        if (mode.burnsCredits() && rates != null) {
            budgets.add(new Budget(QuotaState.stateKey(principal.tenantId(), null, QuotaState.Window.CREDIT), true, 0,
                    mode == BillingMode.HYBRID, QuotaState.CREDIT_WINDOW_START, tenant.credits() == null ? List.of() : tenant.credits(), model,
                    endpoint));
        }
        var softLimited = new ArrayList<String>();
        long[] held = new long[budgets.size()];
        // Check every budget first, then hold them all: never a partial hold.
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < budgets.size(); i++) {
                Budget b = budgets.get(i);
                long reserve = b.spend() ? UsageBilling.upperBoundMicros(promptEstimate, maxTokens, rates) : promptEstimate + maxTokens;
                Local l = local.computeIfAbsent(b.stateKey(), k -> new Local());
                synchronized (l) {
                    if (pass == 0) {
                        QuotaState state = current(b, now);
                        // A balance's EXHAUSTED is the projector's view at its last event; a top-up since then (on the tenant's
                        // state, read by remaining()) must count at once, without waiting for more usage to move the projector.
                        boolean over = state != null && state.status() == QuotaState.Status.EXHAUSTED && !b.balance()
                                || settled(l, b, now) + l.inFlightHeld + reserve > allowance(b, now);
                        if (over && !b.soft() && LOG.isDebugEnabled()) {
                            LOG.debug("refusing {}: state used {} asOf {}, own settled {}, held {}, reserve {}, share {}",
                                    b.stateKey(), state == null ? null : state.usedTokens(), state == null ? null : state.asOf(),
                                    settled(l, b, now), l.inFlightHeld, reserve, allowance(b, now));
                        }
                        if (over && !b.soft() && b.balance()) {
                            long left = Math.max(0, remaining(b, now) - settled(l, b, now) - l.inFlightHeld);
                            String currency = tenant.currency();
                            return new Refusal("tenant credit", "Your prepaid balance (" + decimal(left) + " " + currency
                                    + " left) does not cover this request (up to " + decimal(reserve) + " " + currency
                                    + " at most). Buy more credit to continue.", 0, true, left);
                        }
                        if (over && !b.soft()) {
                            String subject = (b.stateKey().contains("/*/") ? "tenant" : "key") + (b.spend() ? " spend" : " daily tokens");
                            long retry = Math.max(1, Duration.between(now, windowEnd(b, zone)).toSeconds());
                            return new Refusal(subject, "You exceeded your current quota (" + subject + " limit). "
                                    + "Ask your administrator to raise it, or wait for the next " + (b.spend() ? "billing period." : "day."), retry);
                        }
                        if (over || state != null && state.status() == QuotaState.Status.SOFT_LIMIT) {
                            softLimited.add(b.label());
                        }
                    } else {
                        held[i] = reserve;
                        l.inFlightHeld += reserve;
                    }
                }
            }
        }
        return new Hold(List.copyOf(budgets), held, promptEstimate, rates, List.copyOf(softLimited));
    }

    private void addBudgets(List<Budget> budgets, String tenantId, String keyId, Limits limits, ZoneId zone, Instant now,
                            PriceSchedule.ModelRates rates) {
        if (limits == null) {
            return;
        }
        if (limits.tokensPerDay() != null) {
            budgets.add(new Budget(QuotaState.stateKey(tenantId, keyId, QuotaState.Window.DAY), false, limits.tokensPerDay(), false,
                    LocalDate.ofInstant(now, zone).atStartOfDay(zone).toInstant()));
        }
        if (limits.spendPerPeriodMicros() != null && rates != null) {
            budgets.add(new Budget(QuotaState.stateKey(tenantId, keyId, QuotaState.Window.BILLING_PERIOD), true,
                    limits.spendPerPeriodMicros(), limits.spendLimitMode() == Limits.SpendLimitMode.SOFT,
                    BillingPeriod.containing(now, zone).start()));
        }
    }

    /** The state of the budget's current window, or null if the projector has none yet. */
    private QuotaState current(Budget b, Instant now) {
        QuotaState state = quotas.quota(b.stateKey()).orElse(null);
        return state == null || !state.windowStart().equals(b.windowStart()) ? null : state;
    }

    /** This replica's share of what the state says is left. */
    private long allowance(Budget b, Instant now) {
        return remaining(b, now) / Math.max(1, replicas.getAsInt());
    }

    /** What the state says is left of the budget, fleet-wide. */
    private long remaining(Budget b, Instant now) {
        QuotaState state = current(b, now);
        if (b.balance()) {
            return CreditBurn.remainingMicros(b.credits(), state == null ? null : state.grantsUsedMicros(),
                    state == null || state.unfundedMicros() == null ? 0 : state.unfundedMicros(), b.model(), b.endpoint(), now);
        }
        long used = state == null ? 0 : b.spend() ? state.usedSpendMicros() : state.usedTokens();
        return Math.max(0, b.limit() - used);
    }

    /**
     * The balance of a prepaid or hybrid tenant for its answers' header: what the state says is left for any model, less
     * what this replica settled since and holds in flight; empty for a postpaid tenant.
     */
    public Optional<Balance> balance(String tenantId) {
        Instant now = clock.get();
        TenantState tenant = directory.tenant(tenantId).orElse(null);
        if (tenant == null || !CreditBurn.modeAt(tenant, now).burnsCredits()) {
            return Optional.empty();
        }
        Budget b = new Budget(QuotaState.stateKey(tenantId, null, QuotaState.Window.CREDIT), true, 0, false, QuotaState.CREDIT_WINDOW_START,
                tenant.credits() == null ? List.of() : tenant.credits(), null, null);
        Local l = local.computeIfAbsent(b.stateKey(), k -> new Local());
        synchronized (l) {
            return Optional.of(new Balance(Math.max(0, remaining(b, now) - settled(l, b, now) - l.inFlightHeld), tenant.currency()));
        }
    }

    /**
     * For the fleet's heartbeats: every prepaid balance this replica holds in flight or settled unseen by the state, so the
     * billing API can say what the fleet has admitted beyond the projector's burn (ADR 0027).
     */
    public List<GatewayHeartbeat.Balance> inFlight() {
        Instant now = clock.get();
        var balances = new ArrayList<GatewayHeartbeat.Balance>();
        String suffix = "/*/" + QuotaState.Window.CREDIT;
        local.forEach((stateKey, l) -> {
            if (!stateKey.endsWith(suffix)) {
                return;
            }
            var b = new Budget(stateKey, true, 0, false, QuotaState.CREDIT_WINDOW_START, List.of(), null, null);
            long held;
            synchronized (l) {
                held = l.inFlightHeld + settled(l, b, now);
            }
            if (held > 0) {
                balances.add(new GatewayHeartbeat.Balance(stateKey.substring(0, stateKey.length() - suffix.length()), held));
            }
        });
        return balances;
    }

    /** Micro-units as a decimal amount of the currency ({@code 1250000} is {@code 1.25}). */
    private static String decimal(long micros) {
        return BigDecimal.valueOf(micros).movePointLeft(6).stripTrailingZeros().toPlainString();
    }

    /** Own settled usage of this window that the state may not reflect yet; prunes what it surely does. */
    private long settled(Local l, Budget b, Instant now) {
        QuotaState state = current(b, now);
        long windowStart = b.windowStart().toEpochMilli();
        long reflectedUpTo;
        if (state == null) {
            reflectedUpTo = windowStart - 1;
        } else if (state.sources() != null) {
            // Exact: this replica's events reach the projector in order, so all of them up to its watermark are counted.
            Instant mine = state.sources().get(source);
            reflectedUpTo = mine == null ? windowStart - 1 : Math.max(windowStart - 1, mine.toEpochMilli());
        } else {
            reflectedUpTo = Math.max(windowStart - 1, state.asOf().toEpochMilli() - REFLECTION_MARGIN.toMillis());
        }
        l.prune(reflectedUpTo);
        return l.settledAfter(reflectedUpTo);
    }

    private static Instant windowEnd(Budget b, ZoneId zone) {
        return b.spend() ? BillingPeriod.containing(b.windowStart(), zone).end()
                : LocalDate.ofInstant(b.windowStart(), zone).plusDays(1).atStartOfDay(zone).toInstant();
    }
}
