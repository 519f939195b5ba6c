package dev.tollgate.gateway.scheduling;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The requests waiting for one saturated pool, served fairly (ADR 0023):
 * <ul>
 *   <li><b>strict priority between classes</b> (class 0 first), with a <b>starvation bound</b>: a class
 *       that has waited {@code starvationNanos} since it was last served (or since it started waiting)
 *       is served next, whatever waits above it, so the lowest class gets at least one grant per bound;</li>
 *   <li><b>weighted fair sharing between tenants within a class</b>: deficit round robin with a cost of
 *       one request, so that backlogged tenants of weights 1 and 3 get grants in the ratio 1:3; a
 *       tenant that was not waiting is served first (its turn starts at once), so a sparse tenant waits
 *       for one free slot, not for a round; a tenant's own requests keep their arrival order;</li>
 *   <li><b>bounds</b>: at most {@code capacity} waiters in all and {@code perTenant} of any one tenant;
 *       when full, an arrival sheds the newest waiter of the most-queued tenant of the lowest class
 *       below its own, or is refused.</li>
 * </ul>
 * Not thread-safe: the pool guards it with one lock. Times are {@link System#nanoTime()} values passed
 * in, so that tests drive them.
 *
 * @param <T> what waits (the pool's waiter)
 */
public final class FairQueue<T> {
    private final int capacity;
    private final int perTenant;
    private final long starvationNanos;
    private final List<ClassQueue> classes;
    private final Map<String, Integer> queuedByTenant = new HashMap<>();
    private int size;

    /** Why an arrival was not queued. */
    public enum Refusal {
        /** The queue is full of waiters of the arrival's class or higher. */
        QUEUE_FULL,
        /** The arrival's tenant already has {@code perTenant} waiters. */
        TENANT_FULL
    }

    /** One waiting request. */
    public final class Ticket {
        private final T item;
        private final int priorityClass;
        private final String tenant;
        private final long enqueuedNanos;
        private boolean queued = true;

        private Ticket(T item, int priorityClass, String tenant, long enqueuedNanos) {
            this.item = item;
            this.priorityClass = priorityClass;
            this.tenant = tenant;
            this.enqueuedNanos = enqueuedNanos;
        }

        public T item() {
            return item;
        }

        public int priorityClass() {
            return priorityClass;
        }

        public String tenant() {
            return tenant;
        }

        public long enqueuedNanos() {
            return enqueuedNanos;
        }
    }

    /**
     * What {@link #offer} did.
     *
     * @param ticket  the arrival's ticket, or null when it was refused
     * @param shed    the waiter pushed out to make room for it (null if none): the caller refuses it
     * @param refusal why the arrival was refused (null when queued)
     */
    public record Offer<T>(FairQueue<T>.Ticket ticket, FairQueue<T>.Ticket shed, Refusal refusal) {
        public boolean queued() {
            return ticket != null;
        }
    }

    /**
     * @param classCount      priority classes, 0 the highest
     * @param capacity        waiters in all (at least 0)
     * @param perTenant       waiters of one tenant (at least 1)
     * @param starvationNanos the longest a backlogged class goes without a grant (at least 1)
     */
    public FairQueue(int classCount, int capacity, int perTenant, long starvationNanos) {
        if (classCount < 1 || capacity < 0 || perTenant < 1 || starvationNanos < 1) {
            throw new IllegalArgumentException("a fair queue needs >= 1 class, capacity >= 0, perTenant >= 1 and a starvation bound > 0");
        }
        this.capacity = capacity;
        this.perTenant = perTenant;
        this.starvationNanos = starvationNanos;
        this.classes = new ArrayList<>(classCount);
        for (int i = 0; i < classCount; i++) {
            classes.add(new ClassQueue());
        }
    }

    /**
     * Queues {@code item} of {@code tenant} (fair-share {@code weight} >= 1) in {@code priorityClass}.
     */
    public Offer<T> offer(T item, int priorityClass, String tenant, int weight, long nowNanos) {
        if (priorityClass < 0 || priorityClass >= classes.size() || weight < 1) {
            throw new IllegalArgumentException("class " + priorityClass + " or weight " + weight + " out of range");
        }
        if (size >= capacity && lowestBacklogged() <= priorityClass) {
            return new Offer<>(null, null, Refusal.QUEUE_FULL);
        }
        if (queuedByTenant.getOrDefault(tenant, 0) >= perTenant) {
            return new Offer<>(null, null, Refusal.TENANT_FULL);
        }
        Ticket shed = null;
        if (size >= capacity) {
            shed = classes.get(lowestBacklogged()).shedOne();
            forget(shed);
        }
        Ticket ticket = new Ticket(item, priorityClass, tenant, nowNanos);
        ClassQueue queue = classes.get(priorityClass);
        if (queue.size == 0) {
            queue.backloggedSinceNanos = nowNanos;
        }
        queue.add(ticket, weight);
        queuedByTenant.merge(tenant, 1, Integer::sum);
        size++;
        return new Offer<>(ticket, shed, null);
    }

    /** The waiter to serve next, without removing it; null when none waits. */
    public Ticket peek(long nowNanos) {
        int chosen = classToServe(nowNanos);
        return chosen < 0 ? null : classes.get(chosen).head();
    }

    /** Removes and returns the waiter to serve next (the one {@link #peek} names); null when none waits. */
    public Ticket poll(long nowNanos) {
        int chosen = classToServe(nowNanos);
        if (chosen < 0) {
            return null;
        }
        ClassQueue queue = classes.get(chosen);
        Ticket ticket = queue.pollHead();
        queue.backloggedSinceNanos = nowNanos;
        forget(ticket);
        return ticket;
    }

    /** Takes {@code ticket} out (its request gave up); false if it is no longer queued. */
    public boolean remove(Ticket ticket) {
        if (!ticket.queued) {
            return false;
        }
        classes.get(ticket.priorityClass).remove(ticket);
        forget(ticket);
        return true;
    }

    /** Waiters in all. */
    public int size() {
        return size;
    }

    /** Waiters of {@code priorityClass}. */
    public int size(int priorityClass) {
        return classes.get(priorityClass).size;
    }

    /** Waiters of {@code tenant}. */
    public int queuedOf(String tenant) {
        return queuedByTenant.getOrDefault(tenant, 0);
    }

    private void forget(Ticket ticket) {
        ticket.queued = false;
        size--;
        queuedByTenant.computeIfPresent(ticket.tenant, (t, n) -> n == 1 ? null : n - 1);
    }

    /** The most overdue starved class if any, else the highest backlogged one; -1 when empty. */
    private int classToServe(long nowNanos) {
        int highest = -1;
        int starved = -1;
        long mostOverdue = Long.MIN_VALUE;
        for (int c = 0; c < classes.size(); c++) {
            if (classes.get(c).size == 0) {
                continue;
            }
            if (highest < 0) {
                highest = c;
                continue;
            }
            long overdue = nowNanos - classes.get(c).backloggedSinceNanos - starvationNanos;
            if (overdue >= 0 && overdue > mostOverdue) {
                mostOverdue = overdue;
                starved = c;
            }
        }
        return starved >= 0 ? starved : highest;
    }

    private int lowestBacklogged() {
        for (int c = classes.size() - 1; c >= 0; c--) {
            if (classes.get(c).size > 0) {
                return c;
            }
        }
        return -1;
    }

    /** One tenant's waiters in a class, and its deficit-round-robin credit. */
    private final class TenantQueue {
        private final String tenant;
        private final ArrayDeque<Ticket> tickets = new ArrayDeque<>();
        private int weight;
        /** Grants left in this turn; set to the weight when the tenant comes to the head of the round. */
        private int credit;

        TenantQueue(String tenant) {
            this.tenant = tenant;
        }
    }

    /**
     * The tenants backlogged in one class, in round order: the head is served until its credit (its
     * weight, one per request) is spent or it runs dry, then goes to the tail; a newly backlogged
     * tenant joins at the head.
     */
    private final class ClassQueue {
        private final ArrayDeque<TenantQueue> round = new ArrayDeque<>();
        private final Map<String, TenantQueue> byTenant = new HashMap<>();
        private int size;
        /** When the class was last served or, if not since, when it became backlogged. */
        private long backloggedSinceNanos;

        void add(Ticket ticket, int weight) {
            TenantQueue queue = byTenant.get(ticket.tenant);
            if (queue == null) {
                // A tenant that was not waiting goes first, as a new flow does in FQ-CoDel (RFC 8290): a
                // sparse tenant is served at the next grant; one that stays backlogged takes its turns.
                queue = new TenantQueue(ticket.tenant);
                byTenant.put(ticket.tenant, queue);
                round.addFirst(queue);
                queue.credit = weight;
            }
            queue.weight = weight; // the plan's latest weight
            queue.tickets.addLast(ticket);
            size++;
        }

        Ticket head() {
            TenantQueue queue = round.peekFirst();
            return queue == null ? null : queue.tickets.peekFirst();
        }

        Ticket pollHead() {
            TenantQueue queue = round.peekFirst();
            Ticket ticket = queue.tickets.pollFirst();
            size--;
            queue.credit--;
            if (queue.tickets.isEmpty()) {
                drop(queue);
            } else if (queue.credit <= 0) {
                round.pollFirst();
                round.addLast(queue);
                round.peekFirst().credit = round.peekFirst().weight;
            }
            return ticket;
        }

        void remove(Ticket ticket) {
            TenantQueue queue = byTenant.get(ticket.tenant);
            queue.tickets.remove(ticket);
            size--;
            if (queue.tickets.isEmpty()) {
                drop(queue);
            }
        }

        /** The newest waiter of the tenant with the most waiters in this class. */
        Ticket shedOne() {
            TenantQueue heaviest = null;
            for (TenantQueue queue : round) {
                if (heaviest == null || queue.tickets.size() > heaviest.tickets.size()) {
                    heaviest = queue;
                }
            }
            Ticket ticket = heaviest.tickets.pollLast();
            size--;
            if (heaviest.tickets.isEmpty()) {
                drop(heaviest);
            }
            return ticket;
        }

        private void drop(TenantQueue queue) {
            boolean wasHead = round.peekFirst() == queue;
            round.remove(queue);
            byTenant.remove(queue.tenant);
            if (wasHead && !round.isEmpty()) {
                round.peekFirst().credit = round.peekFirst().weight;
            }
        }
    }

    /** The tenants waiting in {@code priorityClass}, in round order (for tests and diagnostics). */
    List<String> round(int priorityClass) {
        List<String> tenants = new ArrayList<>();
        classes.get(priorityClass).round.forEach(q -> tenants.add(q.tenant));
        return tenants;
    }
}
