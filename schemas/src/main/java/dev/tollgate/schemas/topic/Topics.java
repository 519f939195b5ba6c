package dev.tollgate.schemas.topic;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static dev.tollgate.schemas.topic.TopicSpec.CleanupPolicy.COMPACT;
import static dev.tollgate.schemas.topic.TopicSpec.CleanupPolicy.DELETE;

/**
 * The topic catalog: the one place where topic names, partition counts and configs are written.
 * Every module, the test kit and the deployment manifests take them from here.
 */
public final class Topics {
    private Topics() {}

    /**
     * Every usage event of the gateway, keyed by tenant. Kept forever: invoices must be
     * reproducible from it by replay (archive to tiered storage in production, never delete).
     */
    public static final TopicSpec USAGE = new TopicSpec("usage.v1", 12, DELETE, null,
            "tenant id", "usage.request.* and usage.tokens.streamed CloudEvents from the gateway");

    /** Usage events that arrived after their billing window closed; adjustment lines on the next invoice. */
    public static final TopicSpec USAGE_LATE = new TopicSpec("usage.late.v1", 3, DELETE, null,
            "tenant id", "usage events later than the window grace, re-billed as adjustments");

    /**
     * The projector's billing decisions, keyed by tenant, in the order it made them: each deduplicated
     * usage event with the invoice period it lands on (an adjustment period for late events) and the
     * price list it was priced with, and a marker when a tenant's period closes. Written with
     * exactly-once by the projector; read (read_committed) by the invoice writer into PostgreSQL.
     * Same partition count as usage.v1. Kept forever next to usage.v1 (ADR 0008).
     */
    public static final TopicSpec USAGE_BILLED = new TopicSpec("usage.billed.v1", 12, DELETE, null,
            "tenant id", "billed usage and period-closed records of the billing projector (internal JSON)");

    /**
     * What a ledger backfill (a plan or price list effective in the past) changed in the price of
     * events already billed on open invoices: one record per event re-priced, with the spend it adds
     * (negative: removes), keyed by tenant. Written by the billing service's re-pricer, read by the
     * projector into the live usage reports. Same partition count as usage.v1 (it shares its stores).
     */
    public static final TopicSpec USAGE_REPRICED = new TopicSpec("usage.repriced.v1", 12, DELETE, null,
            "tenant id", "re-priced usage of the billing service (internal JSON)");

    /** The ledger's domain events, kept forever for audit replay. */
    public static final TopicSpec LEDGER_EVENTS = new TopicSpec("ledger.events.v1", 6, DELETE, null,
            "tenant id, or _platform for plans and price lists", "ledger.* CloudEvents");

    /** Latest state of every API key (compacted). */
    public static final TopicSpec KEYS_STATE = new TopicSpec("keys.state.v1", 6, COMPACT, null,
            "key id", "KeyState records read into memory by every gateway");

    /** Latest state of every tenant (compacted). */
    public static final TopicSpec TENANTS_STATE = new TopicSpec("tenants.state.v1", 6, COMPACT, null,
            "tenant id", "TenantState records read by the gateway and the projector");

    /**
     * Every published price list, keyed by its id (compacted; lists are never edited, so nothing is
     * ever replaced): what the projector prices with, without replaying the ledger's event log.
     */
    public static final TopicSpec PRICELISTS_STATE = new TopicSpec("pricelists.state.v1", 3, COMPACT, null,
            "price list id", "PriceListPublished records (the ledger.pricelist.published data) for pricing");

    /** Latest usage against day and period limits (compacted). */
    public static final TopicSpec QUOTA_STATE = new TopicSpec("quota.state.v1", 12, COMPACT, null,
            "tenant/key/window", "QuotaState records from the projector, read by every gateway");

    /**
     * Every gateway replica's heartbeat, keyed by replica (compacted; a stopping replica writes a
     * tombstone): the live fleet and each rate-limited subject's traffic split, from which every
     * replica sizes its share of the limits (ADR 0020). One partition: a handful of small records a second.
     */
    public static final TopicSpec GATEWAY_HEARTBEATS = new TopicSpec("gateways.heartbeats.v1", 1, COMPACT, null,
            "replica id", "GatewayHeartbeat records from every gateway replica, read by every other");

    /** Budget alerts (50/80/100 % of a limit), keyed by tenant; delivered to tenants' webhooks. Kept 30 days. */
    public static final TopicSpec QUOTA_ALERTS = new TopicSpec("quota.alerts.v1", 3, DELETE, Duration.ofDays(30),
            "tenant id", "quota.threshold.crossed CloudEvents from the projector");

    /**
     * Confirmed payments for prepaid credit, keyed by tenant, from the billing service's payment webhook; the
     * ledger grants each once (ADR 0027). Kept forever: every grant bought is traceable to its payment.
     */
    public static final TopicSpec PAYMENTS = new TopicSpec("payments.v1", 3, DELETE, null,
            "tenant id", "billing.payment.succeeded CloudEvents from the billing service");

    /** Records that could not be parsed or applied, with the reason in headers; kept 30 days. */
    public static final TopicSpec DEAD_LETTER = new TopicSpec("deadletter.v1", 3, DELETE, Duration.ofDays(30),
            "the original key", "malformed or unprocessable records from any consumer");

    /** All topics, in a stable order. */
    public static List<TopicSpec> all() {
        return List.of(USAGE, USAGE_LATE, USAGE_BILLED, USAGE_REPRICED, LEDGER_EVENTS, KEYS_STATE, TENANTS_STATE, PRICELISTS_STATE, QUOTA_STATE, GATEWAY_HEARTBEATS,
                QUOTA_ALERTS, PAYMENTS, DEAD_LETTER);
    }

    /** The catalog entry named {@code name}, if any. */
    public static Optional<TopicSpec> byName(String name) {
        return all().stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
