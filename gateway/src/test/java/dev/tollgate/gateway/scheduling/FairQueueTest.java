package dev.tollgate.gateway.scheduling;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class FairQueueTest {
    private static final int INTERACTIVE = 0;
    private static final int STANDARD = 1;
    private static final int BATCH = 2;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final FairQueue<String> queue = new FairQueue<>(3, 1_000, 1_000, 5 * SECOND);

    @Test
    void twoBackloggedTenantsOfWeightsOneAndThreeAreServedOneToThree() {
        long now = 0;
        for (int i = 0; i < 500; i++) {
            queue.offer("a" + i, STANDARD, "a", 1, now);
            queue.offer("b" + i, STANDARD, "b", 3, now);
        }
        Map<String, Integer> grants = new HashMap<>();
        for (int i = 0; i < 400; i++) { // both stay backlogged: 400 grants out of 1,000 waiters
            grants.merge(queue.poll(now += 1_000).tenant(), 1, Integer::sum);
        }
        double ratio = (double) grants.get("b") / grants.get("a");
        assertThat(ratio).isBetween(3 * 0.9, 3 * 1.1);
    }

    @Test
    void aTenantAloneGetsEveryGrantWhateverItsWeight() {
        for (int i = 0; i < 10; i++) {
            queue.offer("a" + i, STANDARD, "a", 1, 0);
        }
        List<String> served = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            served.add(queue.poll(i).item());
        }
        assertThat(served).containsExactly("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9");
        assertThat(queue.poll(11)).isNull();
    }

    @Test
    void aTenantThatWasNotWaitingIsServedAtTheNextGrantNotBehindTheFloodersBacklog() {
        for (int i = 0; i < 100; i++) {
            queue.offer("flood" + i, STANDARD, "a", 1, 0);
        }
        queue.poll(1);
        queue.offer("late", STANDARD, "b", 1, 2);
        assertThat(queue.poll(3).item()).isEqualTo("late");
        assertThat(queue.poll(4).item()).isEqualTo("flood1");
        queue.offer("late2", STANDARD, "b", 1, 5);
        queue.offer("late3", STANDARD, "b", 1, 5);
        assertThat(queue.poll(6).item()).isEqualTo("late2");
        assertThat(queue.poll(7).item()).as("b is backlogged now: it takes its turn").isEqualTo("flood2");
        assertThat(queue.poll(8).item()).isEqualTo("late3");
    }

    @Test
    void aHigherClassIsServedFirstWhileTheLowerOneIsWithinItsStarvationBound() {
        queue.offer("batch", BATCH, "a", 1, 0);
        queue.offer("standard", STANDARD, "b", 1, 1);
        queue.offer("interactive", INTERACTIVE, "c", 1, 2);
        assertThat(queue.peek(3).item()).isEqualTo("interactive");
        assertThat(queue.poll(3).item()).isEqualTo("interactive");
        assertThat(queue.poll(4).item()).isEqualTo("standard");
        assertThat(queue.poll(5).item()).isEqualTo("batch");
    }

    @Test
    void theLowestClassIsServedAtLeastOncePerStarvationBoundUnderAFloodAbove() {
        for (int i = 0; i < 100; i++) {
            queue.offer("batch" + i, BATCH, "a", 1, 0);
        }
        List<Long> batchGrants = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < 500; i++) { // an interactive request every 100 ms, always one waiting: 50 s
            queue.offer("interactive" + i, INTERACTIVE, "b", 1, now);
            now += SECOND / 10;
            FairQueue<String>.Ticket served = queue.poll(now);
            if (served.priorityClass() == BATCH) {
                batchGrants.add(now);
            }
        }
        assertThat(batchGrants).hasSizeGreaterThanOrEqualTo(9); // 50 s / 5 s, the first at 5 s
        for (int i = 1; i < batchGrants.size(); i++) {
            assertThat(batchGrants.get(i) - batchGrants.get(i - 1)).isLessThanOrEqualTo(5 * SECOND + SECOND / 10);
        }
        assertThat(batchGrants.size()).isLessThanOrEqualTo(11); // and not more: priority stays strict otherwise
    }

    @Test
    void aFullQueueShedsTheNewestWaiterOfTheMostQueuedTenantOfTheLowestClass() {
        FairQueue<String> small = new FairQueue<>(3, 4, 4, 5 * SECOND);
        small.offer("s1", STANDARD, "x", 1, 0);
        small.offer("b1", BATCH, "a", 1, 1);
        small.offer("b2", BATCH, "b", 1, 2);
        small.offer("b3", BATCH, "b", 1, 3);

        var interactive = small.offer("i1", INTERACTIVE, "c", 1, 4);
        assertThat(interactive.queued()).isTrue();
        assertThat(interactive.shed().item()).isEqualTo("b3");

        var standard = small.offer("s2", STANDARD, "c", 1, 5);
        assertThat(standard.shed().item()).isEqualTo("b2"); // a and b have one each now: the first in round order, b (it joined last, at the head)
        var standardAgain = small.offer("s3", STANDARD, "c", 1, 6);
        assertThat(standardAgain.shed().item()).isEqualTo("b1");

        var batch = small.offer("b4", BATCH, "a", 1, 7);
        assertThat(batch.queued()).isFalse();
        assertThat(batch.refusal()).isEqualTo(FairQueue.Refusal.QUEUE_FULL);
        var equalClass = small.offer("s4", STANDARD, "d", 1, 8);
        assertThat(equalClass.refusal()).isEqualTo(FairQueue.Refusal.QUEUE_FULL); // never sheds its own class
        assertThat(small.size()).isEqualTo(4);
    }

    @Test
    void aTenantCannotQueueMoreThanItsBoundEvenWhenTheQueueHasRoom() {
        FairQueue<String> bounded = new FairQueue<>(3, 100, 2, 5 * SECOND);
        assertThat(bounded.offer("a1", STANDARD, "a", 1, 0).queued()).isTrue();
        assertThat(bounded.offer("a2", INTERACTIVE, "a", 1, 0).queued()).isTrue();
        var third = bounded.offer("a3", STANDARD, "a", 1, 0);
        assertThat(third.refusal()).isEqualTo(FairQueue.Refusal.TENANT_FULL);
        assertThat(bounded.offer("b1", STANDARD, "b", 1, 0).queued()).isTrue();
        bounded.poll(1);
        assertThat(bounded.offer("a3", STANDARD, "a", 1, 2).queued()).isTrue();
    }

    @Test
    void aWaiterThatGaveUpLeavesNoTraceAndIsNotServed() {
        var first = queue.offer("a1", STANDARD, "a", 1, 0).ticket();
        queue.offer("b1", STANDARD, "b", 1, 1);
        assertThat(queue.remove(first)).isTrue();
        assertThat(queue.remove(first)).isFalse();
        assertThat(queue.queuedOf("a")).isZero();
        assertThat(queue.poll(2).item()).isEqualTo("b1");
        assertThat(queue.poll(3)).isNull();
        assertThat(queue.size()).isZero();
    }

    @Test
    void aServedWaiterCannotBeRemovedAgain() {
        var ticket = queue.offer("a1", STANDARD, "a", 1, 0).ticket();
        assertThat(queue.poll(1)).isSameAs(ticket);
        assertThat(queue.remove(ticket)).isFalse();
    }

    @Test
    void weightsComeFromTheLatestArrivalOfATenant() {
        for (int i = 0; i < 40; i++) {
            queue.offer("a" + i, STANDARD, "a", 1, 0);
            queue.offer("b" + i, STANDARD, "b", 1, 0);
        }
        queue.offer("b-new", STANDARD, "b", 4, 0); // b's plan changed to weight 4
        Map<String, Integer> grants = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            grants.merge(queue.poll(i).tenant(), 1, Integer::sum);
        }
        assertThat(grants.get("b")).isEqualTo(40);
        assertThat(grants.get("a")).isEqualTo(10);
    }
}
