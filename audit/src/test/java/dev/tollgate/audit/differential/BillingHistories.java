package dev.tollgate.audit.differential;

import dev.tollgate.billing.credit.BillingModes;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.ledger.KeyIssued;
import dev.tollgate.schemas.ledger.KeyRotated;
import dev.tollgate.schemas.ledger.LimitsSet;
import dev.tollgate.schemas.ledger.SecretHash;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.TokenUsage;
import dev.tollgate.schemas.usage.TokensStreamed;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Random but reproducible billing histories: one platform price book (plans whose price lists change
 * mid-period, prices that do not divide evenly), and per tenant a
 * billing zone far east, far west or with a DST change, plan assignments effective in the past and in
 * the future of its usage, keys issued and rotated and limits changed (which price nothing), and usage around the month's boundaries in its zone: streamed deltas and
 * terminal events, the producer's duplicate re-sends, and events sent out of time order (late ones
 * become adjustments). Everything a history contains derives from the seed alone.
 */
public final class BillingHistories {
    static final Instant CREATED = Instant.parse("2026-09-01T00:00:00Z");
    static final Instant USAGE_FROM = Instant.parse("2026-10-29T00:00:00Z");
    static final Instant USAGE_TO = Instant.parse("2026-12-04T00:00:00Z");
    static final List<String> ZONES = List.of("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Europe/Berlin",
            "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns");
    static final List<String> MODELS = List.of("m-a", "m-b", "m-c");
    private static final List<Endpoint> STREAMED_ENDPOINTS = List.of(Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS);
    static final int PLANS = 4;

    /** Late backfills take effect from here on: after the first of December in every zone, so only open invoices bill what they price. */
    static final Instant LATE_FROM = Instant.parse("2026-12-02T00:00:00Z");

    /**
     * The platform's price lists, shared by every tenant of a run; {@code lateLists} are backfills
     * (effective in December, in the past of the usage) published only after the usage is billed.
     */
    public record Platform(List<PriceListPublished> priceLists, List<PriceListPublished> lateLists, List<PlanDefinition> plans) {
        /** Each plan's mode history, as the ledger keeps it from the definitions' times. */
        Map<String, List<BillingModePeriod>> planModes() {
            var modes = new HashMap<String, List<BillingModePeriod>>();
            for (PlanDefinition plan : plans) {
                modes.put(plan.definition().planId(), BillingModes.withPlanMode(modes.getOrDefault(plan.definition().planId(), List.of()),
                        plan.definition().mode(), plan.at()));
            }
            return modes;
        }
    }

    /** A plan defined (with its billing mode) at {@code at}: the time of its ledger event. */
    public record PlanDefinition(PlanDefined definition, Instant at) {}

    /** When the ledger records the tenants' events and their plan assignments; the late backfills' are recorded later. */
    static final Instant LEDGER_PUBLISHED = Instant.parse("2026-10-01T00:00:00Z");
    static final Instant LATE_PUBLISHED = Instant.parse("2026-12-05T00:00:00Z");

    /** A usage event and when the gateway gets it onto the topic: its own time, or later for a late one. */
    public record Sent(CloudEvent<?> event, Instant sendAt) {}

    /**
     * One tenant's ledger and usage; {@code usage} includes the producer's re-sends. {@code keysAndLimits}
     * are the tenant's other control-plane events (keys issued and rotated, limits changed): they price
     * nothing, and the audit must read past them.
     */
    public record History(String tenantId, String zone, List<PlanAssigned> plans, List<EventData> keysAndLimits, List<Sent> usage,
                          List<PlanAssigned> latePlans, List<EventData> credits) {
        TenantCreated created() {
            return new TenantCreated(tenantId, tenantId, zone, "USD");
        }

        /** The state the ledger publishes once every assignment but the late ones is recorded. */
        TenantState state(Instant publishedAt, Map<String, List<BillingModePeriod>> planModes) {
            return state(publishedAt, plans, 1, planModes);
        }

        /** The state once the late backfills are recorded too. */
        TenantState stateWithLatePlans(Instant publishedAt, Map<String, List<BillingModePeriod>> planModes) {
            var all = new ArrayList<>(plans);
            all.addAll(latePlans);
            return state(publishedAt, all, 2, planModes);
        }

        private TenantState state(Instant publishedAt, List<PlanAssigned> assignments, long version,
                                  Map<String, List<BillingModePeriod>> planModes) {
            var periods = new ArrayList<PlanPeriod>();
            assignments.forEach(p -> periods.add(new PlanPeriod(p.planId(), p.effectiveFrom())));
            periods.sort((a, b) -> a.effectiveFrom().compareTo(b.effectiveFrom()));
            String current = periods.stream().filter(p -> !p.effectiveFrom().isAfter(publishedAt)).reduce((a, b) -> b)
                    .orElse(periods.getFirst()).planId();
            var choices = new ArrayList<BillingModes.Choice>();
            var grants = new ArrayList<CreditGrant>();
            for (EventData event : credits) {
                switch (event) {
                    case BillingModeSet m -> choices.add(new BillingModes.Choice(m.mode(), m.effectiveFrom()));
                    case CreditGranted g -> grants.add(CreditGrant.of(g));
                    case CreditVoided v -> grants.replaceAll(c -> c.grantId().equals(v.grantId()) ? c.voidedAt(v.voidedAt()) : c);
                    case CreditReduced r -> grants.replaceAll(c -> c.grantId().equals(r.grantId()) ? c.reducedTo(r.amountMicros(), r.reducedAt()) : c);
                    default -> throw new IllegalStateException("not a credit event: " + event);
                }
            }
            var recorded = new ArrayList<BillingModes.Assignment>();
            plans.forEach(p -> recorded.add(new BillingModes.Assignment(p.planId(), p.effectiveFrom(), LEDGER_PUBLISHED)));
            assignments.stream().filter(latePlans::contains)
                    .forEach(p -> recorded.add(new BillingModes.Assignment(p.planId(), p.effectiveFrom(), LATE_PUBLISHED)));
            List<BillingModePeriod> modes = BillingModes.effective(choices, recorded, planModes);
            return new TenantState(tenantId, tenantId, TenantState.Status.ACTIVE, current, zone, "USD", Limits.NONE, null, null, version,
                    publishedAt, periods, true, modes.isEmpty() ? null : modes, grants.isEmpty() ? null : grants);
        }

        /** A readable account of the history, for a failure report. */
        String describe() {
            var out = new StringBuilder("tenant ").append(tenantId).append(" zone ").append(zone).append('\n');
            plans.forEach(p -> out.append("  plan ").append(p.planId()).append(" from ").append(p.effectiveFrom()).append('\n'));
            latePlans.forEach(p -> out.append("  plan ").append(p.planId()).append(" from ").append(p.effectiveFrom())
                    .append(" (a backfill published after the usage was billed)\n"));
            credits.forEach(c -> out.append("  ").append(c).append('\n'));
            usage.forEach(s -> out.append("  ").append(s.event().id()).append(' ').append(s.event().time()).append(" sent ").append(s.sendAt())
                    .append(' ').append(s.event().data()).append('\n'));
            return out.toString();
        }
    }

    public static Platform platform(long seed) {
        var random = new Random(seed);
        var lists = new ArrayList<PriceListPublished>();
        var late = new ArrayList<PriceListPublished>();
        for (int plan = 0; plan < PLANS; plan++) {
            var times = new TreeSet<Instant>();
            times.add(CREATED);
            int changes = random.nextInt(3);
            for (int i = 0; i < changes; i++) {
                times.add(between(random, USAGE_FROM, USAGE_TO).truncatedTo(ChronoUnit.SECONDS));
            }
            int version = 0;
            for (Instant from : times) {
                var prices = new ArrayList<ModelPrice>();
                for (String model : MODELS) {
                    // Every list prices every model: unpriced usage is a finding of the audit (and refused at the gateway).
                    prices.add(new ModelPrice(model, price(random), price(random), price(random)));
                }
                lists.add(new PriceListPublished("plan-" + plan + "-v" + version++, "plan-" + plan, "USD", from, false, prices));
            }
            // Now and then a backfill for December, published after the usage it prices was billed.
            if (random.nextInt(2) == 0) {
                Instant from = between(random, LATE_FROM, USAGE_TO).truncatedTo(ChronoUnit.SECONDS);
                if (!times.contains(from)) {
                    var prices = new ArrayList<ModelPrice>();
                    for (String model : MODELS) {
                        prices.add(new ModelPrice(model, price(random), price(random), price(random)));
                    }
                    late.add(new PriceListPublished("plan-" + plan + "-late", "plan-" + plan, "USD", from, true, prices));
                }
            }
        }
        return new Platform(List.copyOf(lists), List.copyOf(late), planDefinitions(new Random(seed * 65_537L)));
    }

    /**
     * Every plan defined when the ledger starts, half of them postpaid, the others prepaid or hybrid; now and then one defined
     * again inside the usage with another mode (its tenants change mode then, unless they have one of their own). A random
     * stream of its own, so that the rest stays what it was.
     */
    private static List<PlanDefinition> planDefinitions(Random random) {
        var definitions = new ArrayList<PlanDefinition>();
        var later = new ArrayList<PlanDefinition>();
        for (int plan = 0; plan < PLANS; plan++) {
            String planId = "plan-" + plan;
            definitions.add(new PlanDefinition(new PlanDefined(planId, planId, Limits.NONE, true, planMode(random)), LEDGER_PUBLISHED));
            if (random.nextBoolean()) {
                later.add(new PlanDefinition(new PlanDefined(planId, planId, Limits.NONE, true, planMode(random)),
                        between(random, USAGE_FROM, USAGE_TO).truncatedTo(ChronoUnit.MILLIS)));
            }
        }
        definitions.addAll(later);
        definitions.sort(Comparator.comparing(PlanDefinition::at));
        return List.copyOf(definitions);
    }

    private static BillingMode planMode(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> BillingMode.PREPAID;
            case 1 -> BillingMode.HYBRID;
            default -> BillingMode.POSTPAID;
        };
    }

    public static History tenant(long seed, int index) {
        var random = new Random(seed * 1_000_003L + index);
        String tenantId = "t" + index + "-" + Long.toHexString(seed & 0xffff);
        String zone = ZONES.get(random.nextInt(ZONES.size()));
        var plans = new ArrayList<PlanAssigned>();
        plans.add(new PlanAssigned(tenantId, "plan-" + random.nextInt(PLANS), CREATED));
        int changes = random.nextInt(3);
        for (int i = 0; i < changes; i++) {
            // Effective before, during or after the usage: a backfill, a mid-period change or one scheduled for later.
            Instant at = random.nextBoolean() ? monthBoundaryNear(random, zone) : between(random, USAGE_FROM, USAGE_TO);
            plans.add(new PlanAssigned(tenantId, "plan-" + random.nextInt(PLANS), at.truncatedTo(ChronoUnit.MILLIS)));
        }
        var usage = new ArrayList<CloudEvent<?>>();
        // The endpoints of requests and grants come from a stream of their own, so that the rest stays what it was.
        var endpoints = new Random(seed * 104_729L + index);
        int requests = 3 + random.nextInt(10);
        for (int r = 0; r < requests; r++) {
            Instant start = random.nextInt(3) == 0 ? monthBoundaryNear(random, zone) : between(random, USAGE_FROM, USAGE_TO);
            String requestId = tenantId + "-r" + r;
            String model = MODELS.get(random.nextInt(MODELS.size()));
            String key = "k" + random.nextInt(2);
            int deltas = random.nextInt(4);
            // Embeddings never stream; a streamed request's deltas say their endpoint but for an older gateway's (none).
            Endpoint endpoint = deltas > 0 ? STREAMED_ENDPOINTS.get(endpoints.nextInt(STREAMED_ENDPOINTS.size()))
                    : Endpoint.values()[endpoints.nextInt(Endpoint.values().length)];
            Endpoint deltaEndpoint = endpoints.nextInt(6) == 0 ? null : endpoint;
            long streamed = 0;
            for (int d = 0; d < deltas; d++) {
                long tokens = 1 + random.nextInt(5_000);
                streamed += tokens;
                usage.add(CloudEvent.withId(requestId + "-d" + d, EventType.USAGE_TOKENS_STREAMED, "/gateway/diff",
                        start.plusMillis(250L * (d + 1)), requestId, null, new TokensStreamed(requestId, tenantId, key, model, d + 1, tokens,
                        deltaEndpoint)));
            }
            if (random.nextInt(8) > 0) { // now and then the terminal event never comes
                long prompt = random.nextInt(20_000);
                long cached = prompt == 0 ? 0 : random.nextInt((int) prompt + 1);
                long completion = streamed + random.nextInt(2_000);
                EventType type = switch (random.nextInt(5)) {
                    case 0 -> EventType.USAGE_REQUEST_CANCELLED;
                    default -> EventType.USAGE_REQUEST_COMPLETED;
                };
                usage.add(CloudEvent.withId(requestId + "-end", type, "/gateway/diff", start.plusMillis(250L * (deltas + 1) + 7), requestId,
                        null, new RequestFinished(requestId, tenantId, key, model, endpoint, "pool/e1",
                                new TokenUsage(prompt, completion, cached), streamed, 100, 10L, null, null,
                                type == EventType.USAGE_REQUEST_CANCELLED ? "client_disconnect" : null)));
            }
        }
        // Closes the tenant's November in every zone: stream time passes the period's end plus the grace.
        usage.add(CloudEvent.withId(tenantId + "-close", EventType.USAGE_TOKENS_STREAMED, "/gateway/diff", USAGE_TO, tenantId + "-close",
                null, new TokensStreamed(tenantId + "-close", tenantId, "k0", MODELS.getFirst(), 1, 1)));
        // Most events are sent when they happen; some hours or days later (a spool draining after an outage:
        // late events, adjustments once their period has closed); some twice (the producer's retry).
        var sent = new ArrayList<Sent>();
        for (CloudEvent<?> event : usage) {
            Instant sendAt = random.nextInt(10) == 0 ? event.time().plusSeconds(random.nextInt(3 * 86_400)) : event.time();
            sent.add(new Sent(event, sendAt));
            if (random.nextInt(15) == 0) {
                sent.add(new Sent(event, sendAt.plusSeconds(random.nextInt(86_400))));
            }
        }
        List<EventData> keysAndLimits = keysAndLimits(random, tenantId);
        // One tenant in four gets a plan backfilled for December after its usage is billed.
        var latePlans = new ArrayList<PlanAssigned>();
        if (random.nextInt(4) == 0) {
            latePlans.add(new PlanAssigned(tenantId, "plan-" + random.nextInt(PLANS),
                    between(random, LATE_FROM, USAGE_TO).truncatedTo(ChronoUnit.MILLIS)));
        }
        return new History(tenantId, zone, List.copyOf(plans), keysAndLimits, List.copyOf(sent), List.copyOf(latePlans),
                credits(new Random(seed * 7_919L + index), endpoints, tenantId, zone));
    }

    /**
     * One tenant in three is prepaid or hybrid from some time on (from before the usage, or around a month's boundary in its
     * zone) with one to four grants: amounts that the usage may or may not use up, priorities, expiries inside the usage,
     * grants for one model only or one or two endpoints only, top-ups in the middle of the usage, and now and then a void. A
     * separate random stream, so that the other parts of the histories stay what they were.
     */
    private static List<EventData> credits(Random random, Random endpoints, String tenantId, String zone) {
        if (random.nextInt(3) != 0) {
            return List.of();
        }
        var events = new ArrayList<EventData>();
        Instant modeFrom = random.nextBoolean() ? CREATED : monthBoundaryNear(random, zone).truncatedTo(ChronoUnit.MILLIS);
        events.add(new BillingModeSet(tenantId, random.nextInt(3) == 0 ? BillingMode.HYBRID : BillingMode.PREPAID, modeFrom));
        int grants = 1 + random.nextInt(4);
        for (int g = 0; g < grants; g++) {
            Instant grantedAt = g == 0 ? CREATED : between(random, USAGE_FROM, USAGE_TO).truncatedTo(ChronoUnit.MILLIS);
            Instant expiresAt = random.nextInt(3) == 0 && grantedAt.plusSeconds(1).isBefore(USAGE_TO)
                    ? between(random, grantedAt.plusSeconds(1), USAGE_TO).truncatedTo(ChronoUnit.SECONDS) : null;
            List<String> models = random.nextInt(4) == 0 ? List.of(MODELS.get(random.nextInt(MODELS.size()))) : List.of();
            long amount = 1 + random.nextInt(200_000);
            String grantId = String.format("cg_%032x", (long) tenantId.hashCode() * 31 + g & 0xffffffffL);
            List<Endpoint> paysAt = switch (endpoints.nextInt(5)) {
                case 0 -> List.of(Endpoint.EMBEDDINGS);
                case 1 -> List.of(Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS);
                default -> List.of();
            };
            events.add(new CreditGranted(tenantId, grantId, amount, g == 0 ? CreditSource.PROMOTION : CreditSource.PURCHASE, null, grantedAt,
                    expiresAt, random.nextInt(101), models, null, paysAt));
            if (random.nextInt(5) == 0) {
                events.add(new CreditVoided(tenantId, grantId, "refunded", between(random, grantedAt, USAGE_TO).truncatedTo(ChronoUnit.MILLIS)));
            } else if (amount > 1 && endpoints.nextInt(5) == 0) {
                // Refunded in part once or twice: lowered from then on, to an amount the usage may have burned past already.
                Instant reducedAt = grantedAt;
                long to = amount;
                for (int k = 1 + endpoints.nextInt(2); k > 0 && to > 1; k--) {
                    reducedAt = between(endpoints, reducedAt, USAGE_TO).truncatedTo(ChronoUnit.MILLIS);
                    to = 1 + endpoints.nextInt((int) to - 1);
                    events.add(new CreditReduced(tenantId, grantId, to, "refunded in part", reducedAt));
                }
            }
        }
        return List.copyOf(events);
    }

    private static List<EventData> keysAndLimits(Random random, String tenantId) {
        var events = new ArrayList<EventData>();
        for (String key : List.of("k0", "k1")) {
            events.add(new KeyIssued(key, tenantId, key, new SecretHash("test", key + "-" + random.nextInt()), List.of("inference"), List.of(),
                    null, null));
            if (random.nextBoolean()) {
                events.add(new KeyRotated(key, tenantId, new SecretHash("test", key + "-" + random.nextInt()), USAGE_FROM.plusSeconds(86_400)));
            }
        }
        long tokensPerDay = 1_000_000L + random.nextInt(1_000_000);
        events.add(new LimitsSet(tenantId, null, new Limits(null, null, tokensPerDay, null, null, null)));
        if (random.nextBoolean()) {
            events.add(new LimitsSet(tenantId, "k1", new Limits(600L, null, null, null, null, null)));
        }
        return List.copyOf(events);
    }

    /** Within a few hours of a month's first instant in {@code zone} (October to December). */
    private static Instant monthBoundaryNear(Random random, String zone) {
        int month = 11 + random.nextInt(2);
        Instant boundary = LocalDate.of(2026, month, 1).atStartOfDay(ZoneId.of(zone)).toInstant();
        return boundary.plusSeconds(random.nextInt(6 * 3600) - 3 * 3600);
    }

    private static Instant between(Random random, Instant from, Instant to) {
        return from.plusMillis((long) (random.nextDouble() * Duration.between(from, to).toMillis()));
    }

    /** Micro-units per million tokens, often not a round number so that rounding matters. */
    private static long price(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> (1 + random.nextInt(50)) * 100_000L;
            default -> 1 + random.nextInt(40_000_000);
        };
    }

    /** The distinct billable events (streamed and terminal) of a history. */
    static long distinctEvents(History history) {
        return history.usage().stream().map(s -> s.event().id()).distinct().count();
    }

    private BillingHistories() {}
}
