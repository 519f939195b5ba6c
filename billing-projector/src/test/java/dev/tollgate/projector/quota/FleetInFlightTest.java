package dev.tollgate.projector.quota;

import dev.tollgate.schemas.fleet.GatewayHeartbeat;
import dev.tollgate.schemas.json.EventCodec;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FleetInFlightTest {
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    private static byte[] heartbeat(String replica, Instant sentAt, GatewayHeartbeat.Balance... balances) {
        return EventCodec.encodeState(new GatewayHeartbeat(replica, sentAt, 1_000, List.of(), List.of(balances)));
    }

    @Test
    void theLiveReplicasHoldingsOfATenantAddUpAndAGoneReplicaCountsNoMore() {
        var fleet = new FleetInFlight(null);
        fleet.apply("gw-0", heartbeat("gw-0", NOW, new GatewayHeartbeat.Balance("acme", 700), new GatewayHeartbeat.Balance("globex", 5)));
        fleet.apply("gw-1", heartbeat("gw-1", NOW.minusMillis(500), new GatewayHeartbeat.Balance("acme", 300)));
        fleet.apply("gw-2", heartbeat("gw-2", NOW.minusSeconds(6), new GatewayHeartbeat.Balance("acme", 1_000_000))); // expired (5 x 1 s)
        assertThat(fleet.inFlightMicros("acme", NOW)).isEqualTo(1_000);
        assertThat(fleet.inFlightMicros("initech", NOW)).isZero();

        fleet.apply("gw-1", heartbeat("gw-1", NOW.minusSeconds(1)));      // older than what gw-1 said last: ignored
        assertThat(fleet.inFlightMicros("acme", NOW)).isEqualTo(1_000);
        fleet.apply("gw-1", heartbeat("gw-1", NOW));                      // nothing held any more
        assertThat(fleet.inFlightMicros("acme", NOW)).isEqualTo(700);
        fleet.apply("gw-0", null);                                         // stopped: its tombstone
        fleet.apply("gw-3", "not a heartbeat".getBytes(StandardCharsets.UTF_8));
        assertThat(fleet.inFlightMicros("acme", NOW)).isZero();
    }
}
