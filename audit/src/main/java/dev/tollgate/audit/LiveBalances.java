package dev.tollgate.audit;

import dev.tollgate.billing.credit.CreditBurn;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.topic.Topics;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/** The projector's live prepaid balances ({@code quota.state.v1}, window CREDIT), and how a replayed burn compares with one. */
public final class LiveBalances {
    private LiveBalances() {}

    /** The newest CREDIT state of {@code tenantId} on the topic, or null if the projector never burned its credit. */
    static QuotaState read(LogSource log, String tenantId) throws IOException {
        return latest(log).get(tenantId);
    }

    /** Every tenant's newest CREDIT state on the topic. */
    public static Map<String, QuotaState> latest(LogSource log) throws IOException {
        var newest = new HashMap<String, QuotaState>();
        log.read(Topics.QUOTA_STATE.name(), record -> {
            if (record.key() != null && record.key().endsWith("/*/" + QuotaState.Window.CREDIT.name()) && record.value() != null) {
                try {
                    QuotaState state = EventCodec.decodeState(record.value(), QuotaState.class);
                    newest.merge(state.tenantId(), state, (a, b) -> b.version() >= a.version() ? b : a);
                } catch (EventFormatException e) {
                    // a record the projector could not have written; the newest good one stands
                }
            }
        }, null);
        return newest;
    }

    /** What differs between the replayed burn and the live state: per grant, and the unfunded usage (both rounded up). */
    public static List<String> compare(CreditBurn replayed, QuotaState live) {
        var problems = new ArrayList<String>();
        Map<String, Long> liveUsed = live.grantsUsedMicros() == null ? Map.of() : live.grantsUsedMicros();
        Map<String, Long> used = replayed.usedMicros();
        var grants = new TreeSet<String>(used.keySet());
        grants.addAll(liveUsed.keySet());
        for (String grant : grants) {
            long mine = used.getOrDefault(grant, 0L);
            long theirs = liveUsed.getOrDefault(grant, 0L);
            if (mine != theirs) {
                problems.add("grant " + grant + " of tenant " + live.tenantId() + ": the projector burned " + theirs
                        + " micro-units, the log says " + mine);
            }
        }
        long unfunded = live.unfundedMicros() == null ? 0 : live.unfundedMicros();
        if (!Objects.equals(unfunded, replayed.unfundedMicros())) {
            problems.add("tenant " + live.tenantId() + ": the projector has " + unfunded + " micro-units of unfunded usage, the log says "
                    + replayed.unfundedMicros());
        }
        return problems;
    }
}
