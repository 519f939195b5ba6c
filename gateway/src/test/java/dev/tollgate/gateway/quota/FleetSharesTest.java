package dev.tollgate.gateway.quota;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.fleet.FleetView;
import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.ledger.Limits;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Shares of fleet-wide rate limits that follow the live fleet and the traffic split (ADR 0020). */
class FleetSharesTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AtomicReference<FleetView> fleet = new AtomicReference<>(FleetView.fixed(1));
    private long version;

    private static final Principal TENANT_RPM_600 = new Principal("acme", "k", List.of(), null, new Limits(600L, null, null, null, null, null));
    private static final Principal TENANT_TPM_30K = new Principal("acme", "k", List.of(), null,
            new Limits(null, 30_000L, null, null, null, null));

    private void advanceMillis(long millis) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** A fleet of this replica and peers, each reporting {@code acme}'s demand and buckets as given. */
    private void peers(GatewayHeartbeat.Subject... reports) {
        var peers = new HashMap<String, Map<String, GatewayHeartbeat.Subject>>();
        for (int i = 0; i < reports.length; i++) {
            peers.put("gw-" + (i + 1), reports[i] == null ? Map.of() : Map.of("t:acme", reports[i]));
        }
        fleet.set(new FleetView(reports.length + 1, peers, ++version));
    }

    private static GatewayHeartbeat.Subject demand(long rpm, long tpm, long remainingRequests, long remainingTokens, long requestShare,
                                                   long tokenShare) {
        return new GatewayHeartbeat.Subject("t:acme", rpm, tpm, remainingRequests, remainingTokens, requestShare, tokenShare, 0);
    }

    @Test
    void theWeightsFollowTheTrafficSplitAboveAnEvenFloorAndAddUpToTheWholeLimit() {
        double a = FleetShares.weight(800, 200, 3);
        double b = FleetShares.weight(100, 900, 3);
        assertThat(a).isCloseTo(0.05 / 3 + 0.95 * 0.8, within(1e-9));
        assertThat(a + b + b).isCloseTo(1.0, within(1e-9));
        assertThat(FleetShares.weight(0, 0, 4)).as("no demand anywhere: even").isEqualTo(0.25);
        assertThat(FleetShares.weight(0, 1000, 4)).as("a replica that sees none keeps its floor").isCloseTo(0.05 / 4, within(1e-9));
        assertThat(FleetShares.weight(5, 0, 1)).isEqualTo(1.0);
        assertThat(FleetShares.share(0, 0.5)).as("a limit of 0 admits nothing").isZero();
        assertThat(FleetShares.share(10, 0.01)).as("a positive limit never rounds to nothing").isEqualTo(1);
    }

    @Test
    void aReplicaThatCarriesMostOfATenantsTrafficCarriesMostOfItsLimit() {
        var limits = new RateLimits(fleet::get, now::get);
        // Two peers, each asked for 60 requests a minute, while this replica is asked for 480: 80 % here.
        peers(demand(60, 0, 10, 0, 40, 0), demand(60, 0, 10, 0, 40, 0));
        int firstMinute = admittedInAMinute(limits, 8);
        int secondMinute = admittedInAMinute(limits, 8);
        // The share follows the split within the 10-second demand window, settling at 600 × (0.05/3 + 0.95 × 0.8) ≈ 466 a
        // minute; the first bucket held what the peers' buckets held (a quarter of their share), refilled at the growing rate.
        assertThat(firstMinute).as("requests admitted in the first minute at 480/min asked").isGreaterThan(420);
        assertThat(secondMinute).as("requests admitted in the second minute at 480/min asked").isBetween(455, 475);
        assertThat(limits.report()).singleElement().satisfies(s -> {
            assertThat(s.requestsPerMinute()).isBetween(470L, 490L);
            assertThat(s.requestShare()).isBetween(455L, 475L);
        });
    }

    /** Asks {@code perSecond} requests every second for a minute; returns how many were admitted. */
    private int admittedInAMinute(RateLimits limits, int perSecond) {
        int admitted = 0;
        for (int second = 0; second < 60; second++) {
            for (int i = 0; i < perSecond; i++) {
                admitted += limits.admit(TENANT_RPM_600, 0) instanceof RateLimits.Admission ? 1 : 0;
            }
            advanceMillis(1_000);
        }
        return admitted;
    }

    @Test
    void whileAnyReplicaIsNotHeardFromEveryLimitIsSplitEvenly() {
        fleet.set(new FleetView(3, Map.of("gw-1", Map.of()), 1)); // three replicas, one heard
        var limits = new RateLimits(fleet::get, now::get);
        int admitted = 0;
        for (int i = 0; i < 600; i++) {
            admitted += limits.admit(TENANT_RPM_600, 0) instanceof RateLimits.Admission ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(200);
    }

    @Test
    void aNewSubjectStartsAsFullAsThePeersBucketsAreSoAJoiningReplicaAddsNoFreshMinute() {
        // Both peers have spent their buckets: a third replica joining mid-run starts empty and only refills.
        peers(demand(600, 0, 0, 0, 300, 0), demand(600, 0, 0, 0, 300, 0));
        var limits = new RateLimits(fleet::get, now::get);
        assertThat(limits.admit(TENANT_RPM_600, 0)).isInstanceOf(RateLimits.Refusal.class);
    }

    @Test
    void replicasThatMeetANewTenantInTheSameSecondHoldNoMoreThanTheLimitBetweenThem() {
        // Three replicas hear each other, and none has reported the tenant yet: each would size its share as if the
        // tenant's traffic were all its own, but starts with no more than an even third.
        fleet.set(new FleetView(3, Map.of("gw-1", Map.of(), "gw-2", Map.of()), 1));
        int admitted = 0;
        for (int replica = 0; replica < 3; replica++) {
            var limits = new RateLimits(fleet::get, now::get);
            for (int i = 0; i < 600; i++) {
                admitted += limits.admit(TENANT_RPM_600, 0) instanceof RateLimits.Admission ? 1 : 0;
            }
        }
        assertThat(admitted).isEqualTo(600);
    }

    @Test
    void aReservationLargerThanTheShareBorrowsWhatTheFleetHasLeftAndOnlyThen() {
        // Three replicas, even traffic: a share is 10,000 of 30,000 tokens a minute.
        peers(demand(10, 100_000, 0, 10_000, 10, 10_000), demand(10, 100_000, 0, 10_000, 10, 10_000));
        var limits = new RateLimits(fleet::get, now::get);
        // 20,000 of the fleet's 30,000 are unused: a 16,000-token request fits the tenant's limit and is admitted.
        Object first = limits.admit(TENANT_TPM_30K, 16_000);
        assertThat(first).isInstanceOf(RateLimits.Admission.class);
        assertThat(((RateLimits.Admission) first).headers().limitTokens()).as("the header names the limit bought").isEqualTo(30_000);
        assertThat(limits.report()).singleElement().satisfies(s -> assertThat(s.borrowedTokens()).isBetween(6_000L, 16_000L));

        // The peers have spent theirs: nothing left to borrow; the refusal is retryable (a minute brings it back).
        advanceMillis(2_000);
        peers(demand(10, 100_000, 0, 0, 10, 10_000), demand(10, 100_000, 0, 0, 10, 10_000));
        assertThat(limits.admit(TENANT_TPM_30K, 16_000)).isInstanceOfSatisfying(RateLimits.Refusal.class, r -> {
            assertThat(r.quotaKind()).isEqualTo("tpm");
            assertThat(r.retryable()).isTrue();
        });
    }

    @Test
    void aPeersBorrowingIsRepaidFromThisReplicasBucket() {
        // Every replica asked for the same 6,000 tokens a minute (this one: 1,000 in its 10-second window): a third each.
        peers(demand(10, 6_000, 0, 10_000, 10, 10_000), demand(10, 6_000, 0, 10_000, 10, 10_000));
        var limits = new RateLimits(fleet::get, now::get);
        var first = (RateLimits.Admission) limits.admit(TENANT_TPM_30K, 1_000);
        first.settle(1_000);
        assertThat(limits.report().getFirst().tokenShare()).isEqualTo(10_000);
        long before = limits.report().getFirst().remainingTokens();
        // A peer with a share of 10,000 borrowed 6,000: this replica holds half of the other 20,000 and repays half.
        limits.repay("t:acme", 6_000, 10_000);
        long after = limits.report().getFirst().remainingTokens();
        assertThat(before - after).isBetween(2_900L, 3_100L);
    }

    @Test
    void theHeadersReportTheLimitBoughtAndWhatTheWholeFleetHasLeft() {
        peers(demand(100, 0, 150, 0, 200, 0), demand(100, 0, 50, 0, 200, 0));
        var limits = new RateLimits(fleet::get, now::get);
        var admission = (RateLimits.Admission) limits.admit(TENANT_RPM_600, 0);
        assertThat(admission.headers().limitRequests()).isEqualTo(600);
        // This replica asked for little (6 a minute) holds a small share, started as full as the peers' (half): a few
        // requests, less the one admitted; plus the 150 and 50 the peers reported.
        assertThat(admission.headers().remainingRequests()).isBetween(200L, 215L);
    }
}
