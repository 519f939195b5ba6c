package dev.tollgate.gateway.http;

import io.vertx.core.http.HttpConnection;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Caps the idle connections one client address may hold open (issue #19: bounded resources per
 * unauthenticated peer). A connection is idle from when it opens, and again after each answer, until
 * the head of its next request arrives. When an address would hold more than {@code maxPerAddress}
 * idle connections, its oldest idle one is closed: a client that opens thousands of connections and
 * sends nothing on them holds at most that many file descriptors (each still bounded in time by the
 * head deadline), while connections carrying requests are never touched. Peers that are trusted
 * proxies (the ingress, whose address every client shares) are not capped.
 */
final class IdleConnections {
    /** The default cap: far above what one client's connection pool keeps idle. */
    static final int DEFAULT_MAX_PER_ADDRESS = 512;

    private final int maxPerAddress;
    private final Predicate<String> uncapped;
    private final Runnable onCapped;
    private final Map<String, LinkedHashSet<HttpConnection>> idleByAddress = new ConcurrentHashMap<>();

    /**
     * @param uncapped addresses not capped (trusted proxies)
     * @param onCapped called for each connection closed by the cap (a metric)
     */
    IdleConnections(int maxPerAddress, Predicate<String> uncapped, Runnable onCapped) {
        this.maxPerAddress = maxPerAddress;
        this.uncapped = uncapped;
        this.onCapped = onCapped;
    }

    /** {@code connection} waits for a request head: idle. */
    void idle(HttpConnection connection) {
        String address = address(connection);
        if (address == null || uncapped.test(address)) {
            return;
        }
        HttpConnection evicted = null;
        LinkedHashSet<HttpConnection> idle = idleByAddress.computeIfAbsent(address, a -> new LinkedHashSet<>());
        synchronized (idle) {
            idle.add(connection);
            if (idle.size() > maxPerAddress) {
                evicted = idle.removeFirst();
            }
        }
        if (evicted != null) {
            onCapped.run();
            evicted.close();
        }
    }

    /** {@code connection} carries a request, or closed: no longer idle. */
    void active(HttpConnection connection) {
        String address = address(connection);
        if (address == null) {
            return;
        }
        LinkedHashSet<HttpConnection> idle = idleByAddress.get(address);
        if (idle != null) {
            synchronized (idle) {
                idle.remove(connection);
                if (idle.isEmpty()) {
                    idleByAddress.remove(address, idle);
                }
            }
        }
    }

    private static String address(HttpConnection connection) {
        return connection.remoteAddress() == null ? null : connection.remoteAddress().hostAddress();
    }
}
