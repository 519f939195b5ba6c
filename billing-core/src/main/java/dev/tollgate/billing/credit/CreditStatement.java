package dev.tollgate.billing.credit;

import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.usage.Endpoint;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tenant's balance at an instant: every grant with what usage burned of it and what it can still
 * pay, the unfunded usage, and what is left. The billing API answers it from the live burn, the
 * audit from its replay of the log; both build it here.
 *
 * @param grantedMicros   everything granted, voided and expired grants included
 * @param usedMicros      what usage burned of the grants
 * @param unfundedMicros  prepaid usage no grant covered yet (the next grant pays it first)
 * @param remainingMicros what usage of any model may still spend at {@code at}: the paying grants' rest less the unfunded usage
 */
public record CreditStatement(String tenantId, String currency, BillingMode mode, long grantedMicros, long usedMicros, long unfundedMicros,
                              long remainingMicros, Instant at, List<GrantLine> grants) {

    /** Where a grant stands at the statement's time. */
    public enum GrantStatus { ACTIVE, SPENT, EXPIRED, VOIDED, SCHEDULED }

    /** @param withdrawnMicros what partial refunds took of it by the statement's time */
    public record GrantLine(String grantId, long amountMicros, CreditSource source, Instant grantedAt, Instant expiresAt, Instant voidedAt,
                            int priority, List<String> models, List<Endpoint> endpoints, long withdrawnMicros, long usedMicros,
                            long remainingMicros, GrantStatus status) {}

    public CreditStatement {
        grants = List.copyOf(grants);
    }

    /** The statement of {@code grants} after {@code burn}, at {@code at}. */
    public static CreditStatement of(String tenantId, String currency, BillingMode mode, List<CreditGrant> grants, CreditBurn burn, Instant at) {
        Map<String, Long> used = burn.usedMicros();
        List<CreditGrant> credits = grants == null ? List.of() : grants;
        var lines = new ArrayList<GrantLine>();
        long granted = 0;
        long usedTotal = 0;
        for (CreditGrant grant : credits) {
            long usedOfGrant = Math.min(grant.amountMicros(), used.getOrDefault(grant.grantId(), 0L));
            long amountNow = grant.amountAt(at);
            GrantStatus status = grant.voidedAt() != null && !at.isBefore(grant.voidedAt()) ? GrantStatus.VOIDED
                    : grant.expiresAt() != null && !at.isBefore(grant.expiresAt()) ? GrantStatus.EXPIRED
                    : grant.grantedAt().isAfter(at) ? GrantStatus.SCHEDULED
                    : usedOfGrant >= amountNow ? GrantStatus.SPENT : GrantStatus.ACTIVE;
            lines.add(new GrantLine(grant.grantId(), grant.amountMicros(), grant.source(), grant.grantedAt(), grant.expiresAt(), grant.voidedAt(),
                    grant.priority(), grant.models(), grant.endpoints(), grant.amountMicros() - amountNow, usedOfGrant,
                    CreditBurn.pays(grant, null, null, at) ? Math.max(0, amountNow - usedOfGrant) : 0, status));
            granted += grant.amountMicros();
            usedTotal += usedOfGrant;
        }
        return new CreditStatement(tenantId, currency, mode, granted, usedTotal, burn.unfundedMicros(),
                CreditBurn.remainingMicros(credits, used, burn.unfundedMicros(), null, null, at), at, lines);
    }
}
