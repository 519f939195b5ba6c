package dev.tollgate.gateway.upstream;

import java.util.concurrent.TimeUnit;

/**
 * Says when a periodic piece of work on one endpoint (a health check, a load read) is due again; the
 * first call is always due. Safe for the one thread that drives the timer and readers elsewhere.
 */
final class IntervalClock {

    private volatile long lastNanos = System.nanoTime() - TimeUnit.DAYS.toNanos(1);

    /** True, and the interval restarted, when at least {@code intervalMs} has passed since it last was. */
    boolean due(long intervalMs) {
        long now = System.nanoTime();
        if (now - lastNanos >= TimeUnit.MILLISECONDS.toNanos(intervalMs)) {
            lastNanos = now;
            return true;
        }
        return false;
    }
}
