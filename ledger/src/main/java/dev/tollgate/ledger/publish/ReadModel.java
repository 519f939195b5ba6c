package dev.tollgate.ledger.publish;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.billing.PlanHistory;
import dev.tollgate.billing.credit.BillingModes;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.ledger.KeyIssued;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.ModelPrice;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.SecretHash;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The ledger's read model in PostgreSQL ({@code *_view} tables): what the admin API reads and what
 * the state topics are published from. Written only by {@link LedgerPublisher}.
 */
@Component
public class ReadModel {
    private static final ObjectMapper JSON = EventCodec.mapper();
    private static final TypeReference<List<KeyState.Secret>> SECRETS = new TypeReference<>() {};
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};
    private static final TypeReference<List<PlanPeriod>> PLANS = new TypeReference<>() {};
    private static final TypeReference<List<ModelPrice>> PRICES = new TypeReference<>() {};
    private static final TypeReference<List<BillingModePeriod>> MODES = new TypeReference<>() {};
    private static final TypeReference<List<BillingModes.Choice>> CHOICES = new TypeReference<>() {};
    private static final TypeReference<List<BillingModes.Assignment>> ASSIGNMENTS = new TypeReference<>() {};
    private static final TypeReference<List<CreditGrant>> CREDITS = new TypeReference<>() {};
    private static final TypeReference<List<Endpoint>> ENDPOINTS = new TypeReference<>() {};
    private static final TypeReference<List<CreditGrant.Reduction>> REDUCTIONS = new TypeReference<>() {};

    private final JdbcTemplate jdbc;

    public ReadModel(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    // ---- writes (by the publisher) ----

    void createTenant(TenantCreated event, long version, Instant at) {
        jdbc.update("INSERT INTO tenant_view (tenant_id, name, status, billing_time_zone, currency, own_limits, version, created_at, updated_at) "
                        + "VALUES (?, ?, 'ACTIVE', ?, ?, ?::jsonb, ?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING",
                event.tenantId(), event.name(), event.billingTimeZone(), event.currency(), json(Limits.NONE), version, ts(at), ts(at));
    }

    void updateTenant(String tenantId, String column, Object value, long version, Instant at) {
        String cast = column.equals("own_limits") ? "?::jsonb" : "?";
        jdbc.update("UPDATE tenant_view SET " + column + " = " + cast + ", version = ?, updated_at = ? WHERE tenant_id = ?",
                value, version, ts(at), tenantId);
    }

    /**
     * Records a plan assignment in the tenant's history; {@code plan_id} (which decides the effective
     * limits) becomes the plan in force at {@code at}, so a plan scheduled for later changes nothing yet.
     */
    void assignPlan(PlanAssigned event, long version, Instant at) {
        var current = jdbc.queryForMap("SELECT plans::text AS plans, plan_assignments::text AS plan_assignments FROM tenant_view "
                + "WHERE tenant_id = ? FOR UPDATE", event.tenantId());
        PlanHistory history = PlanHistory.of(read(current.get("plans").toString(), PLANS)).with(new PlanPeriod(event.planId(), event.effectiveFrom()));
        var assignments = new ArrayList<>(read(current.get("plan_assignments").toString(), ASSIGNMENTS));
        assignments.add(new BillingModes.Assignment(event.planId(), event.effectiveFrom(), at));
        jdbc.update("UPDATE tenant_view SET plans = ?::jsonb, plan_assignments = ?::jsonb, plan_id = ?, next_plan_switch_at = ?, version = ?, "
                        + "updated_at = ? WHERE tenant_id = ?",
                json(history.periods()), json(assignments), history.planAt(at).orElse(null),
                history.nextSwitchAfter(at).map(ReadModel::ts).orElse(null), version, ts(at), event.tenantId());
    }

    /** Tenants whose scheduled plan has taken effect by {@code now} and is not yet their current plan here. */
    public List<String> tenantsWithPlanSwitchDue(Instant now, int limit) {
        return jdbc.queryForList("SELECT tenant_id FROM tenant_view WHERE next_plan_switch_at <= ? ORDER BY next_plan_switch_at LIMIT ?",
                String.class, ts(now), limit);
    }

    /**
     * Makes the plan in force at {@code now} the tenant's current plan (which decides its effective
     * limits) and remembers the next scheduled switch; the state's version stays that of the tenant's
     * last event (readers take an equal version as the newer). Empty when nothing was due (another
     * replica did it). Call it in a transaction that ends after the state is published.
     */
    public Optional<TenantState> switchPlan(String tenantId, Instant now) {
        List<String> due = jdbc.queryForList("SELECT plans FROM tenant_view WHERE tenant_id = ? AND next_plan_switch_at <= ? FOR UPDATE",
                String.class, tenantId, ts(now));
        if (due.isEmpty()) {
            return Optional.empty();
        }
        PlanHistory history = PlanHistory.of(read(due.getFirst(), PLANS));
        jdbc.update("UPDATE tenant_view SET plan_id = ?, next_plan_switch_at = ? WHERE tenant_id = ?", history.planAt(now).orElse(null),
                history.nextSwitchAfter(now).map(ReadModel::ts).orElse(null), tenantId);
        return tenant(tenantId);
    }

    void setWebhook(String tenantId, String url, int secretVersion, long version, Instant at) {
        jdbc.update("UPDATE tenant_view SET webhook_url = ?, webhook_secret_version = ?, version = ?, updated_at = ? WHERE tenant_id = ?",
                url, secretVersion, version, ts(at), tenantId);
    }

    /** Adds the grant to the tenant's state and to the grants the admin API lists. */
    void grantCredit(CreditGranted e, long version, Instant at) {
        jdbc.update("INSERT INTO credit_grant_view (grant_id, tenant_id, amount_micros, source, reason, granted_at, expires_at, priority, "
                        + "models, endpoints, external_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?) ON CONFLICT (grant_id) DO NOTHING",
                e.grantId(), e.tenantId(), e.amountMicros(), e.source().name(), e.reason(), ts(e.grantedAt()),
                e.expiresAt() == null ? null : ts(e.expiresAt()), e.priority(), json(e.models()), json(e.endpoints()), e.externalId());
        updateCredits(e.tenantId(), version, at, credits -> {
            credits.removeIf(c -> c.grantId().equals(e.grantId()));
            credits.add(CreditGrant.of(e));
        });
    }

    void voidCredit(CreditVoided e, long version, Instant at) {
        jdbc.update("UPDATE credit_grant_view SET voided_at = ?, void_reason = ? WHERE grant_id = ?", ts(e.voidedAt()), e.reason(), e.grantId());
        updateCredits(e.tenantId(), version, at, credits -> credits.replaceAll(c -> c.grantId().equals(e.grantId()) ? c.voidedAt(e.voidedAt()) : c));
    }

    /** Lowers the grant from the event's time on, in the tenant's state and in what the admin API lists. */
    void reduceCredit(CreditReduced e, long version, Instant at) {
        String current = jdbc.queryForObject("SELECT reductions FROM credit_grant_view WHERE grant_id = ? FOR UPDATE", String.class, e.grantId());
        var reductions = new ArrayList<>(read(current, REDUCTIONS));
        reductions.add(new CreditGrant.Reduction(e.amountMicros(), e.reducedAt()));
        jdbc.update("UPDATE credit_grant_view SET reductions = ?::jsonb WHERE grant_id = ?", json(reductions), e.grantId());
        updateCredits(e.tenantId(), version, at, credits -> credits.replaceAll(c -> c.grantId().equals(e.grantId())
                ? c.reducedTo(e.amountMicros(), e.reducedAt()) : c));
    }

    private void updateCredits(String tenantId, long version, Instant at, Consumer<List<CreditGrant>> change) {
        String current = jdbc.queryForObject("SELECT credits FROM tenant_view WHERE tenant_id = ? FOR UPDATE", String.class, tenantId);
        List<CreditGrant> credits = new ArrayList<>(read(current, CREDITS));
        change.accept(credits);
        credits.sort(Comparator.comparing(CreditGrant::grantedAt).thenComparing(CreditGrant::grantId));
        jdbc.update("UPDATE tenant_view SET credits = ?::jsonb, version = ?, updated_at = ? WHERE tenant_id = ?", json(credits), version, ts(at),
                tenantId);
    }

    /** Adds the tenant's own mode to its choices. */
    void setBillingMode(BillingModeSet e, long version, Instant at) {
        addModeChoice(e.tenantId(), new BillingModes.Choice(e.mode(), e.effectiveFrom()), version, at);
    }

    /** Adds "follow the plan's mode" to the tenant's choices. */
    void clearBillingMode(BillingModeCleared e, long version, Instant at) {
        addModeChoice(e.tenantId(), new BillingModes.Choice(null, e.effectiveFrom()), version, at);
    }

    private void addModeChoice(String tenantId, BillingModes.Choice choice, long version, Instant at) {
        String current = jdbc.queryForObject("SELECT billing_modes FROM tenant_view WHERE tenant_id = ? FOR UPDATE", String.class, tenantId);
        // Kept in the order made: BillingModes.effective orders them and lets a later choice of the same time replace an earlier one.
        List<BillingModes.Choice> choices = new ArrayList<>(read(current, CHOICES));
        choices.add(choice);
        jdbc.update("UPDATE tenant_view SET billing_modes = ?::jsonb, version = ?, updated_at = ? WHERE tenant_id = ?", json(choices), version,
                ts(at), tenantId);
    }

    /** The plan as defined at {@code at}; its mode from then on joins its mode history. */
    void upsertPlan(PlanDefined event, Instant at) {
        List<String> current = jdbc.queryForList("SELECT billing_modes FROM plan_view WHERE plan_id = ? FOR UPDATE", String.class, event.planId());
        List<BillingModePeriod> modes = BillingModes.withPlanMode(current.isEmpty() ? List.of() : read(current.getFirst(), MODES), event.mode(),
                at);
        jdbc.update("INSERT INTO plan_view (plan_id, name, default_limits, allow_unpriced_usage, billing_modes, updated_at) "
                        + "VALUES (?, ?, ?::jsonb, ?, ?::jsonb, ?) "
                        + "ON CONFLICT (plan_id) DO UPDATE SET name = EXCLUDED.name, default_limits = EXCLUDED.default_limits, "
                        + "allow_unpriced_usage = EXCLUDED.allow_unpriced_usage, billing_modes = EXCLUDED.billing_modes, "
                        + "updated_at = EXCLUDED.updated_at",
                event.planId(), event.name(), json(event.defaultLimits()), event.allowsUnpricedUsage(), json(modes), ts(at));
    }

    void insertPriceList(PriceListPublished event) {
        jdbc.update("INSERT INTO price_list_view (price_list_id, plan_id, currency, effective_from, backfill, prices) "
                        + "VALUES (?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT (price_list_id) DO NOTHING",
                event.priceListId(), event.planId(), event.currency(), ts(event.effectiveFrom()), event.backfill(), json(event.prices()));
    }

    void insertKey(KeyIssued event, long version, Instant at) {
        jdbc.update("INSERT INTO api_key_view (key_id, tenant_id, name, status, secrets, scopes, allowed_models, limits, expires_at, version, created_at, updated_at) "
                        + "VALUES (?, ?, ?, 'ACTIVE', ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING",
                event.keyId(), event.tenantId(), event.name(), json(List.of(new KeyState.Secret(event.secretHash(), null))),
                json(event.scopes()), json(event.allowedModels()), event.limits() == null ? null : json(event.limits()),
                event.expiresAt() == null ? null : ts(event.expiresAt()), version, ts(at), ts(at));
    }

    void rotateKey(String keyId, SecretHash newHash, Instant previousValidUntil, long version, Instant at) {
        KeyState current = key(keyId).orElseThrow(() -> new IllegalStateException("rotated key " + keyId + " not in the read model"));
        SecretHash previous = current.secrets().stream().filter(s -> s.validUntil() == null).findFirst()
                .map(KeyState.Secret::hash).orElse(null);
        List<KeyState.Secret> secrets = previous == null ? List.of(new KeyState.Secret(newHash, null))
                : List.of(new KeyState.Secret(newHash, null), new KeyState.Secret(previous, previousValidUntil));
        jdbc.update("UPDATE api_key_view SET secrets = ?::jsonb, version = ?, updated_at = ? WHERE key_id = ?",
                json(secrets), version, ts(at), keyId);
    }

    void endKey(String keyId, KeyState.Status status, long version, Instant at) {
        jdbc.update("UPDATE api_key_view SET status = ?, secrets = '[]'::jsonb, version = ?, updated_at = ? WHERE key_id = ?",
                status.name(), version, ts(at), keyId);
    }

    void setKeyLimits(String keyId, Limits limits, long version, Instant at) {
        jdbc.update("UPDATE api_key_view SET limits = ?::jsonb, version = ?, updated_at = ? WHERE key_id = ?",
                json(limits), version, ts(at), keyId);
    }

    /** Empties the read model before a replay rebuilds it. */
    void clear() {
        jdbc.update("TRUNCATE tenant_view, api_key_view, plan_view, price_list_view, credit_grant_view");
    }

    // ---- reads ----

    /** The tenant with its effective limits (plan defaults overridden by its own). */
    public Optional<TenantState> tenant(String tenantId) {
        return jdbc.query("SELECT t.*, p.default_limits, p.allow_unpriced_usage FROM tenant_view t LEFT JOIN plan_view p ON p.plan_id = t.plan_id WHERE t.tenant_id = ?",
                tenantStates(), tenantId).stream().findFirst();
    }

    /**
     * Tenants on a plan now, before or later, for republishing when the plan changes (its defaults decide the limits of those on
     * it now, its mode the billing mode of every one of them at the times they are on it).
     */
    public List<TenantState> tenantsOnPlan(String planId) {
        return jdbc.query("SELECT t.*, p.default_limits, p.allow_unpriced_usage FROM tenant_view t LEFT JOIN plan_view p ON p.plan_id = t.plan_id "
                + "WHERE t.plan_id = ? OR t.plans @> jsonb_build_array(jsonb_build_object('planId', ?::text))", tenantStates(), planId, planId);
    }

    public List<TenantState> tenants(int limit, int offset) {
        return jdbc.query("SELECT t.*, p.default_limits, p.allow_unpriced_usage FROM tenant_view t LEFT JOIN plan_view p ON p.plan_id = t.plan_id "
                + "ORDER BY t.tenant_id LIMIT ? OFFSET ?", tenantStates(), limit, offset);
    }

    public Optional<KeyState> key(String keyId) {
        return jdbc.query("SELECT * FROM api_key_view WHERE key_id = ?", this::keyState, keyId).stream().findFirst();
    }

    public List<KeyState> keysOf(String tenantId) {
        return jdbc.query("SELECT * FROM api_key_view WHERE tenant_id = ? ORDER BY created_at, key_id", this::keyState, tenantId);
    }

    /** Active keys whose expiry has passed. */
    public List<KeyState> overdueKeys(Instant now, int limit) {
        return jdbc.query("SELECT * FROM api_key_view WHERE status = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
                this::keyState, ts(now), limit);
    }

    /** A credit grant as the admin API shows it; {@code reductions}: its partial refunds, oldest first. */
    public record CreditGrantView(String grantId, String tenantId, long amountMicros, CreditSource source, String reason, Instant grantedAt,
                                  Instant expiresAt, int priority, List<String> models, List<Endpoint> endpoints, String externalId,
                                  Instant voidedAt, String voidReason, List<CreditGrant.Reduction> reductions) {}

    /** The tenant's grants, oldest first. */
    public List<CreditGrantView> creditGrants(String tenantId) {
        return jdbc.query("SELECT * FROM credit_grant_view WHERE tenant_id = ? ORDER BY granted_at, grant_id", (row, i) -> new CreditGrantView(
                row.getString("grant_id"), row.getString("tenant_id"), row.getLong("amount_micros"), CreditSource.valueOf(row.getString("source")),
                row.getString("reason"), row.getTimestamp("granted_at").toInstant(), instant(row.getTimestamp("expires_at")),
                row.getInt("priority"), read(row.getString("models"), STRINGS), read(row.getString("endpoints"), ENDPOINTS),
                row.getString("external_id"),
                instant(row.getTimestamp("voided_at")), row.getString("void_reason"), read(row.getString("reductions"), REDUCTIONS)), tenantId);
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }

    /** A plan as the admin API shows it; {@code billingModes}: its mode over time (none: POSTPAID throughout). */
    public record PlanView(String planId, String name, Limits defaultLimits, boolean allowUnpricedUsage, BillingMode billingMode,
                           List<BillingModePeriod> billingModes, Instant updatedAt) {}

    /** A published price list; {@code effectiveFrom} may lie in the future (a scheduled change). */
    public record PriceListView(String priceListId, String planId, String currency, Instant effectiveFrom, boolean backfill,
                                List<ModelPrice> prices) {}

    public List<PlanView> plans() {
        return jdbc.query("SELECT * FROM plan_view ORDER BY plan_id", (row, i) -> {
            List<BillingModePeriod> modes = read(row.getString("billing_modes"), MODES);
            return new PlanView(row.getString("plan_id"), row.getString("name"), read(row.getString("default_limits"), Limits.class),
                    row.getBoolean("allow_unpriced_usage"), modes.isEmpty() ? BillingMode.POSTPAID : modes.getLast().mode(), modes,
                    row.getTimestamp("updated_at").toInstant());
        });
    }

    /** Price lists, of one plan or (null) of all, by plan and then effective time. */
    public List<PriceListView> priceLists(String planId) {
        return jdbc.query("SELECT * FROM price_list_view WHERE ?::text IS NULL OR plan_id = ? ORDER BY plan_id, effective_from, price_list_id",
                (row, i) -> new PriceListView(row.getString("price_list_id"), row.getString("plan_id"), row.getString("currency"),
                        row.getTimestamp("effective_from").toInstant(), row.getBoolean("backfill"), read(row.getString("prices"), PRICES)),
                planId, planId);
    }

    /** Each plan's mode history (a handful of plans: read whole for every query of tenants). */
    private Map<String, List<BillingModePeriod>> planModes() {
        var modes = new HashMap<String, List<BillingModePeriod>>();
        jdbc.query("SELECT plan_id, billing_modes FROM plan_view", (ResultSet row) -> {
            modes.put(row.getString("plan_id"), read(row.getString("billing_modes"), MODES));
        });
        return modes;
    }

    /** Maps rows of tenants to their states, the plans' modes read once for the query. */
    private RowMapper<TenantState> tenantStates() {
        Map<String, List<BillingModePeriod>> planModes = planModes();
        return (row, index) -> tenantState(row, planModes);
    }

    private TenantState tenantState(ResultSet row, Map<String, List<BillingModePeriod>> planModes) throws SQLException {
        Limits own = read(row.getString("own_limits"), Limits.class);
        String planDefaults = row.getString("default_limits");
        Limits effective = planDefaults == null ? own : EffectiveLimits.merge(read(planDefaults, Limits.class), own);
        return new TenantState(row.getString("tenant_id"), row.getString("name"),
                TenantState.Status.valueOf(row.getString("status")), row.getString("plan_id"),
                row.getString("billing_time_zone"), row.getString("currency"), effective, row.getString("webhook_url"),
                (Integer) row.getObject("webhook_secret_version"), row.getLong("version"),
                row.getTimestamp("updated_at").toInstant(), plans(row.getString("plans")),
                // A tenant without a plan has no prices at all: nothing unpriced is allowed.
                row.getString("plan_id") != null && row.getBoolean("allow_unpriced_usage"),
                emptyAsNull(BillingModes.effective(read(row.getString("billing_modes"), CHOICES), read(row.getString("plan_assignments"), ASSIGNMENTS),
                        planModes)), emptyAsNull(read(row.getString("credits"), CREDITS)));
    }

    /** Tenants that never had a mode or a grant publish neither, as before credits existed. */
    private static <T> List<T> emptyAsNull(List<T> values) {
        return values.isEmpty() ? null : values;
    }

    /** Null for a tenant without any assignment yet: the state then says nothing of plans, as before histories existed. */
    private static List<PlanPeriod> plans(String json) {
        List<PlanPeriod> plans = read(json, PLANS);
        return plans.isEmpty() ? null : plans;
    }

    private KeyState keyState(ResultSet row, int index) throws SQLException {
        Timestamp expires = row.getTimestamp("expires_at");
        String limits = row.getString("limits");
        return new KeyState(row.getString("key_id"), row.getString("tenant_id"), row.getString("name"),
                KeyState.Status.valueOf(row.getString("status")), read(row.getString("secrets"), SECRETS),
                read(row.getString("scopes"), STRINGS), read(row.getString("allowed_models"), STRINGS),
                limits == null ? null : read(limits, Limits.class), expires == null ? null : expires.toInstant(),
                row.getLong("version"), row.getTimestamp("updated_at").toInstant());
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T read(String json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt read model JSON", e);
        }
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt read model JSON", e);
        }
    }

    private static Timestamp ts(Instant instant) {
        return Timestamp.from(instant);
    }
}
