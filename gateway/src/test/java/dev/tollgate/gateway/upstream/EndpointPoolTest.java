package dev.tollgate.gateway.upstream;

import dev.tollgate.gateway.scheduling.FairQueue;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EndpointPoolTest {

    private static EndpointPool pool(String policy, String endpoints) {
        return new EndpointPool(UpstreamConfig.parse("pools: {p: {policy: " + policy + ", endpoints: [" + endpoints + "]}}\n"
                + "models: {m: {pool: p}}\n"));
    }

    @Test
    void leastOutstandingSpreadsByWeightAndNeverExceedsMaxConcurrency() {
        EndpointPool pool = pool("least-outstanding", "{url: 'http://a', weight: 1, maxConcurrency: 10}, {url: 'http://b', weight: 3, maxConcurrency: 10}");
        var leases = new ArrayList<EndpointPool.Lease>();
        for (int i = 0; i < 20; i++) {
            pool.acquire("m").ifPresent(leases::add);
        }
        Map<String, Integer> counts = new HashMap<>();
        leases.forEach(l -> counts.merge(l.slot().url(), 1, Integer::sum));

        assertThat(counts).containsEntry("http://a", 10).containsEntry("http://b", 10);
        assertThat(pool.acquire("m")).as("both at maxConcurrency").isEmpty();
        leases.getFirst().release();
        leases.getFirst().release();
        assertThat(pool.acquire("m")).as("a release frees exactly one slot").isPresent();
        assertThat(pool.acquire("m")).isEmpty();
    }

    @Test
    void powerOfTwoPrefersTheLessLoadedOfItsTwoDraws() {
        EndpointPool pool = pool("power-of-two", "{url: 'http://a'}, {url: 'http://b'}");
        var busy = new ArrayList<EndpointPool.Lease>();
        while (busy.size() < 50) {
            EndpointPool.Lease lease = pool.acquire("m").orElseThrow();
            if (lease.slot().url().equals("http://a")) {
                busy.add(lease);
            } else {
                lease.release();
            }
        }
        int toB = 0;
        for (int i = 0; i < 200; i++) {
            EndpointPool.Lease lease = pool.acquire("m").orElseThrow();
            toB += lease.slot().url().equals("http://b") ? 1 : 0;
            lease.release();
        }
        // With two endpoints, two draws differ half the time and then the idle one wins: ~75 % to b.
        assertThat(toB).isBetween(120, 200);
    }

    @Test
    void affinitySendsAKeyToTheSameEndpointAndMovesFewKeysWhenOneIsAdded() {
        EndpointPool three = pool("affinity", "{url: 'http://a'}, {url: 'http://b'}, {url: 'http://c'}");
        EndpointPool four = pool("affinity", "{url: 'http://a'}, {url: 'http://b'}, {url: 'http://c'}, {url: 'http://d'}");
        Map<String, String> placed = new HashMap<>();
        int moved = 0;
        for (int i = 0; i < 1000; i++) {
            String key = "session-" + i;
            EndpointPool.Lease first = three.acquire("m", Set.of(), key).orElseThrow();
            EndpointPool.Lease again = three.acquire("m", Set.of(), key).orElseThrow();
            assertThat(again.slot()).isSameAs(first.slot());
            first.release();
            again.release();
            placed.put(key, first.slot().url());
            EndpointPool.Lease grown = four.acquire("m", Set.of(), key).orElseThrow();
            moved += grown.slot().url().equals(first.slot().url()) ? 0 : 1;
            grown.release();
        }
        assertThat(placed.values().stream().distinct()).containsExactlyInAnyOrder("http://a", "http://b", "http://c");
        assertThat(moved).as("about a quarter of the keys move to the new endpoint").isBetween(150, 350);
    }

    @Test
    void affinityFallsToTheNextEndpointWhenItsOwnIsFullOrExcluded() {
        EndpointPool pool = pool("affinity", "{url: 'http://a', maxConcurrency: 1}, {url: 'http://b', maxConcurrency: 1}");
        EndpointPool.Lease home = pool.acquire("m", Set.of(), "k").orElseThrow();

        EndpointPool.Lease overflow = pool.acquire("m", Set.of(), "k").orElseThrow();

        assertThat(overflow.slot()).isNotSameAs(home.slot());
        assertThat(pool.acquire("m", Set.of(), "k")).isEmpty();
        home.release();
        assertThat(pool.acquire("m", Set.of(home.slot()), "k")).as("excluded by a retry").isEmpty();
        assertThat(List.of(home.slot().url(), overflow.slot().url())).containsExactlyInAnyOrder("http://a", "http://b");
    }

    @Test
    void consecutiveFailuresEjectAnEndpointForAWhileAndASuccessResetsTheCount() throws Exception {
        EndpointPool pool = new EndpointPool(UpstreamConfig.parse(
                "pools: {p: {ejection: {afterFailures: 2, forMs: 300}, endpoints: [{url: 'http://a'}, {url: 'http://b'}]}}\n"
                        + "models: {m: {pool: p}}\n"));
        EndpointPool.Slot a = pool.slots("p").getFirst();
        EndpointPool.Lease lease = pool.acquire("m", Set.of(pool.slots("p").get(1)), EndpointPool.Affinity.NONE).orElseThrow();
        lease.failed();
        lease.succeeded();
        lease.failed();
        assertThat(a.healthy()).as("a success in between resets the count").isTrue();
        lease.failed();
        lease.release();
        assertThat(a.healthy()).isFalse();

        for (int i = 0; i < 20; i++) {
            EndpointPool.Lease next = pool.acquire("m").orElseThrow();
            assertThat(next.slot()).isNotSameAs(a);
            next.release();
        }
        Thread.sleep(350);
        assertThat(a.healthy()).as("back after the ejection time: the next request is its trial").isTrue();
    }

    @Test
    void aFullPoolQueuesUpToItsBoundAndHandsFreedCapacityToTheOldestWaiter() {
        EndpointPool pool = pool("least-outstanding", "{url: 'http://a', maxConcurrency: 1, maxQueued: 2}");
        EndpointPool.Lease running = pool.acquire("m").orElseThrow();
        var granted = new ArrayList<String>();

        var first = enqueue(pool, "a", 1, granted, "first");
        var second = enqueue(pool, "b", 1, granted, "second");
        var third = enqueue(pool, "c", 1, granted, "third");

        assertThat(first.waiter()).isNotNull();
        assertThat(second.waiter()).isNotNull();
        assertThat(third.refusal()).as("the queue holds maxQueued").isEqualTo(FairQueue.Refusal.QUEUE_FULL);
        assertThat(pool.cancel(second.waiter())).isTrue();
        running.release();
        assertThat(granted).containsExactly("first");
        assertThat(pool.cancel(first.waiter())).as("already served").isFalse();
        assertThat(pool.queued("p")).isZero();
    }

    @Test
    void aTenantMayFillOnlyItsShareOfThePoolsQueue() {
        EndpointPool pool = pool("least-outstanding", "{url: 'http://a', maxConcurrency: 1, maxQueued: 4}");
        pool.acquire("m").orElseThrow();
        var granted = new ArrayList<String>();
        assertThat(enqueue(pool, "a", 1, granted, "a1").waiter()).isNotNull();
        assertThat(enqueue(pool, "a", 1, granted, "a2").waiter()).isNotNull();
        assertThat(enqueue(pool, "a", 1, granted, "a3").refusal()).as("half the queue by default").isEqualTo(FairQueue.Refusal.TENANT_FULL);
        assertThat(enqueue(pool, "b", 1, granted, "b1").waiter()).isNotNull();
    }

    @Test
    void freedCapacityAlternatesBetweenTenantsAndAHigherClassArrivalShedsTheLowestClass() {
        EndpointPool pool = new EndpointPool(UpstreamConfig.parse("pools: {p: {maxQueuedPerTenant: 3, endpoints: [{url: 'http://a', maxConcurrency: 1, maxQueued: 6}]}}\n"
                + "models: {m: {pool: p}}\n"));
        EndpointPool.Lease running = pool.acquire("m").orElseThrow();
        var granted = new ArrayList<String>();
        for (String name : List.of("a1", "a2", "a3")) {
            enqueue(pool, "a", 1, granted, name);
        }
        enqueue(pool, "c", 2, granted, "batch");
        enqueue(pool, "b", 1, granted, "b1");
        enqueue(pool, "b", 1, granted, "b2");
        enqueue(pool, "d", 0, granted, "interactive");
        assertThat(granted).as("the full queue gave the batch request's place to the interactive one").containsExactly("shed batch");
        granted.clear();

        for (int i = 0; i < 6; i++) {
            running.release(); // the freed slot goes to the next waiter
            running = lastLease;
        }
        assertThat(granted).as("b was not waiting when it arrived: it goes first, then the tenants alternate")
                .containsExactly("interactive", "b1", "a1", "b2", "a2", "a3");
    }

    @Test
    void loadAwareRoutingFollowsWhatTheServersReportAndNeverLessThanTheGatewaysOwnCount() {
        EndpointPool pool = pool("load-aware", "{url: 'http://a'}, {url: 'http://b'}");
        EndpointPool.Slot a = pool.slots("p").get(0);
        EndpointPool.Slot b = pool.slots("p").get(1);
        a.reported(new ServerLoad(9, 4, 0.9, System.nanoTime())); // another gateway keeps a busy
        b.reported(new ServerLoad(2, 0, 0.1, System.nanoTime()));
        var leases = new ArrayList<EndpointPool.Lease>();
        for (int i = 0; i < 10; i++) {
            leases.add(pool.acquire("m").orElseThrow());
        }
        long onB = leases.stream().filter(l -> l.slot() == b).count();
        // b's load: max(own, 2) + 0.1; a's: max(own, 9) + 4 + 0.9 = 13.9 until b's own count passes 13.
        assertThat(onB).isEqualTo(10);
    }

    @Test
    void staleServerReportsFallBackToTheGatewaysOwnCount() {
        EndpointPool pool = pool("load-aware", "{url: 'http://a'}, {url: 'http://b'}");
        EndpointPool.Slot a = pool.slots("p").get(0);
        EndpointPool.Slot b = pool.slots("p").get(1);
        long tenSecondsAgo = System.nanoTime() - TimeUnit.SECONDS.toNanos(10); // staleMs defaults to 3 reads of 1 s
        a.reported(new ServerLoad(50, 50, 1.0, tenSecondsAgo));
        b.reported(new ServerLoad(0, 0, 0, tenSecondsAgo));
        var leases = new ArrayList<EndpointPool.Lease>();
        for (int i = 0; i < 10; i++) {
            leases.add(pool.acquire("m").orElseThrow());
        }
        assertThat(leases.stream().filter(l -> l.slot() == a).count()).as("least outstanding: an even split").isEqualTo(5);
    }

    @Test
    void prefixAwareRoutingKeepsAPrefixOnOneEndpointUntilItIsOverloadedThenSpills() {
        EndpointPool pool = new EndpointPool(UpstreamConfig.parse("pools: {p: {policy: prefix-aware, loadMetrics: {intervalMs: 1000},"
                + " endpoints: [{url: 'http://a'}, {url: 'http://b'}, {url: 'http://c'}, {url: 'http://d'}]}}\nmodels: {m: {pool: p}}\n"));
        long[] conversation = {11, 22, 33};
        EndpointPool.Lease first = pool.acquire("m", Set.of(), new EndpointPool.Affinity(null, conversation)).orElseThrow();
        EndpointPool.Slot owner = first.slot();
        first.release();
        for (int turn = 0; turn < 5; turn++) { // the next turns share the first blocks and add their own
            long[] longer = {11, 22, 33, 44 + turn};
            EndpointPool.Lease next = pool.acquire("m", Set.of(), new EndpointPool.Affinity(null, longer)).orElseThrow();
            assertThat(next.slot()).as("turn %d goes where its prefix is", turn).isSameAs(owner);
            next.release();
        }

        // Other gateways load the owner: 8 running and 2 waiting, the rest idle. The bound is
        // ceil(1.25 × (10 + 1) / 4) = 4 requests: the owner is over it.
        long now = System.nanoTime();
        for (EndpointPool.Slot slot : pool.slots("p")) {
            slot.reported(slot == owner ? new ServerLoad(8, 2, 0.5, now) : new ServerLoad(0, 0, 0, now));
        }
        EndpointPool.Lease spilled = pool.acquire("m", Set.of(), new EndpointPool.Affinity(null, conversation)).orElseThrow();
        assertThat(spilled.slot()).as("the overloaded owner is passed over").isNotSameAs(owner);
        spilled.release();
        EndpointPool.Lease again = pool.acquire("m", Set.of(), new EndpointPool.Affinity(null, new long[] {11, 22, 33, 99})).orElseThrow();
        assertThat(again.slot()).as("the prefix now lives where it spilled to as well").isSameAs(spilled.slot());
        again.release();

        owner.reported(new ServerLoad(0, 0, 0, System.nanoTime()));
        EndpointPool.Lease back = pool.acquire("m", Set.of(), new EndpointPool.Affinity(null, new long[] {11, 22, 33, 44})).orElseThrow();
        assertThat(back.slot()).as("the longest prefix (four blocks) is the owner's again").isSameAs(owner);
    }

    @Test
    void aNewPrefixHasAStablePlaceOnTheRingSoEveryReplicaSendsItToTheSameEndpoint() {
        String endpoints = "{url: 'http://a'}, {url: 'http://b'}, {url: 'http://c'}, {url: 'http://d'}";
        EndpointPool one = pool("prefix-aware", endpoints);
        EndpointPool other = pool("prefix-aware", endpoints);
        for (long first = 1; first <= 20; first++) {
            long[] blocks = {first * 7_919, 5};
            EndpointPool.Lease a = one.acquire("m", Set.of(), new EndpointPool.Affinity(null, blocks)).orElseThrow();
            EndpointPool.Lease b = other.acquire("m", Set.of(), new EndpointPool.Affinity(null, blocks)).orElseThrow();
            assertThat(a.slot().url()).isEqualTo(b.slot().url());
            a.release();
            b.release();
        }
    }

    @Test
    void aFifoPoolServesInArrivalOrderWithoutPerTenantBounds() {
        EndpointPool pool = new EndpointPool(UpstreamConfig.parse("pools: {p: {queueing: fifo, endpoints: [{url: 'http://a', maxConcurrency: 1, maxQueued: 4}]}}\n"
                + "models: {m: {pool: p}}\n"));
        EndpointPool.Lease running = pool.acquire("m").orElseThrow();
        var granted = new ArrayList<String>();
        for (String name : List.of("a1", "a2", "a3")) {
            assertThat(enqueue(pool, "a", 1, granted, name).waiter()).isNotNull();
        }
        enqueue(pool, "b", 1, granted, "b1");
        for (int i = 0; i < 4; i++) {
            running.release();
            running = lastLease;
        }
        assertThat(granted).containsExactly("a1", "a2", "a3", "b1");
    }

    private EndpointPool.Lease lastLease;

    private EndpointPool.Enqueued enqueue(EndpointPool pool, String tenant, int priorityClass, List<String> granted, String name) {
        return pool.enqueue("m", EndpointPool.Affinity.NONE, priorityClass, tenant, 1, lease -> {
            granted.add(name);
            lastLease = lease;
        }, () -> granted.add("shed " + name));
    }

    @Test
    void anUnknownPolicyIsRefusedNamingTheKey() {
        Assertions.assertThatThrownBy(() -> pool("random", "{url: 'http://a'}"))
                .hasMessageContaining("pools.p.policy");
    }
}
