package dev.tollgate.gateway.fleet;

import dev.tollgate.schemas.fleet.GatewayHeartbeat;

import java.util.List;

/** What a replica's heartbeat reports, and what it does when a peer borrowed (the rate limits; ADR 0020). */
public interface FleetMember {
    /** The subjects this replica's next heartbeat carries. */
    List<GatewayHeartbeat.Subject> report();

    /** A peer borrowed {@code tokens} more of {@code subject}'s tokens per minute; its own share is {@code lenderShare}. */
    void repay(String subject, long tokens, long lenderShare);
}
