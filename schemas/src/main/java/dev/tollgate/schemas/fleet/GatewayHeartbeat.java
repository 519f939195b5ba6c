package dev.tollgate.schemas.fleet;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.state.StateRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.nonNegative;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * What one gateway replica tells the others every interval ({@code gateways.heartbeats.v1}, keyed by
 * replica): that it is alive, and for each rate-limited subject it saw lately how much it was asked
 * for and what is left in its buckets. Every replica sizes its share of each limit from the live
 * heartbeats (ADR 0020). A replica that stops sends a tombstone; one that dies is dropped when its
 * newest heartbeat is older than {@link #expiresAfter()}.
 *
 * @param replica      the replica's id (its events' CloudEvents {@code source} name)
 * @param sentAt       when it was sent; also the record's version
 * @param intervalMillis how often the replica sends one
 * @param subjects     the subjects (tenants {@code t:<id>}, keys {@code k:<id>}) with recent demand, debt or borrowing
 * @param balances     the prepaid balances this replica has spent from that the projector's state does not show yet
 *                     (ADR 0027; optional, absent in heartbeats of older replicas)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record GatewayHeartbeat(String replica, Instant sentAt, @JsonProperty(required = true) long intervalMillis,
                               List<Subject> subjects, List<Balance> balances) implements StateRecord {

    /** A heartbeat without balances. */
    public GatewayHeartbeat(String replica, Instant sentAt, long intervalMillis, List<Subject> subjects) {
        this(replica, sentAt, intervalMillis, subjects, List.of());
    }

    /**
     * One prepaid tenant's balance as this replica holds it: what its requests in flight reserved (or streamed, when
     * more) plus what it settled that the projector's state does not count yet, in micro-units of the tenant's currency.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Balance(String tenantId, @JsonProperty(required = true) long inFlightMicros) {
        public Balance {
            requiredText(tenantId, "tenantId");
            nonNegative(inFlightMicros, "inFlightMicros");
        }
    }

    /** How many missed intervals make a replica count as gone. */
    public static final int MISSED_INTERVALS = 5;

    /**
     * One subject as this replica sees it.
     *
     * @param requestsPerMinute requests this replica was asked to admit, per minute over its demand window (refused ones too)
     * @param tokensPerMinute   tokens those requests reserved, per minute over the same window
     * @param remainingRequests what is left in this replica's request bucket (negative: in debt)
     * @param remainingTokens   what is left in this replica's token bucket (negative: in debt)
     * @param requestShare      this replica's share of the requests-per-minute limit (its bucket's capacity)
     * @param tokenShare        this replica's share of the tokens-per-minute limit (its bucket's capacity)
     * @param borrowedTokens    tokens this replica has borrowed from the others since it started (monotonic)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Subject(String subject, @JsonProperty(required = true) long requestsPerMinute,
                          @JsonProperty(required = true) long tokensPerMinute, @JsonProperty(required = true) long remainingRequests,
                          @JsonProperty(required = true) long remainingTokens, @JsonProperty(required = true) long requestShare,
                          @JsonProperty(required = true) long tokenShare,
                          @JsonProperty(required = true) long borrowedTokens) {
        public Subject {
            requiredText(subject, "subject");
            nonNegative(requestsPerMinute, "requestsPerMinute");
            nonNegative(tokensPerMinute, "tokensPerMinute");
            nonNegative(requestShare, "requestShare");
            nonNegative(tokenShare, "tokenShare");
            nonNegative(borrowedTokens, "borrowedTokens");
        }
    }

    public GatewayHeartbeat {
        requiredText(replica, "replica");
        required(sentAt, "sentAt");
        if (intervalMillis < 1) {
            throw new IllegalArgumentException("intervalMillis must be >= 1");
        }
        subjects = List.copyOf(listOrEmpty(subjects));
        balances = List.copyOf(listOrEmpty(balances));
    }

    /** How long after {@link #sentAt()} this heartbeat stops vouching for its replica. */
    public Duration expiresAfter() {
        return Duration.ofMillis(intervalMillis * MISSED_INTERVALS);
    }

    @Override
    public String stateKey() {
        return replica;
    }

    @Override
    public long version() {
        return sentAt.toEpochMilli();
    }
}
