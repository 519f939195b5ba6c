package dev.tollgate.gateway.fleet;

import dev.tollgate.schemas.fleet.GatewayHeartbeat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gateway fleet as this replica last heard it, replaced whole when a heartbeat arrives or a
 * replica expires ({@link Heartbeats}).
 *
 * @param size    live replicas, this one included (at least 1); larger than {@code peers + 1} while
 *                the heartbeat channel is not heard (then the configured fleet size stands in)
 * @param peers   every other live replica's subjects, by replica, then by subject
 * @param version changes whenever anything here does
 */
public record FleetView(int size, Map<String, Map<String, GatewayHeartbeat.Subject>> peers, long version) {

    public FleetView {
        if (size < 1) {
            throw new IllegalArgumentException("a fleet has at least this replica");
        }
        peers = Map.copyOf(peers);
    }

    /** A fleet of {@code size} replicas of which nothing is heard: every limit is split evenly. */
    public static FleetView fixed(int size) {
        return new FleetView(size, Map.of(), 0);
    }

    /** What the peers that reported {@code subject} said about it. */
    public List<GatewayHeartbeat.Subject> reports(String subject) {
        if (peers.isEmpty()) {
            return List.of(); // admission asks on every request: nothing to allocate when no peer is heard
        }
        var reports = new ArrayList<GatewayHeartbeat.Subject>(peers.size());
        for (Map<String, GatewayHeartbeat.Subject> subjects : peers.values()) {
            GatewayHeartbeat.Subject s = subjects.get(subject);
            if (s != null) {
                reports.add(s);
            }
        }
        return reports;
    }
}
