package dev.tollgate.projector.usage;

import dev.tollgate.projector.api.BillingException;
import dev.tollgate.projector.config.ProjectorLifecycle;
import dev.tollgate.projector.stream.ProjectorTopology;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.TenantState;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Live usage from the projector's state stores (interactive queries). A tenant's usage lives on the
 * instance that owns its usage.v1 partition; a query that reaches another instance is forwarded
 * there once (with the caller's own token, which the owner checks again), and answered 503 if
 * ownership is moving.
 */
@Component
public class UsageQueries {
    /** Marks a forwarded query, so that it is never forwarded twice. */
    public static final String FORWARDED_HEADER = "X-Tollgate-Forwarded";

    public enum Granularity { MINUTE, DAY, MONTH }

    /** A query answered elsewhere: the owner's status and body, relayed as they are. */
    public record Forwarded(int status, String contentType, String body) {}

    private final ProjectorLifecycle projector;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public UsageQueries(ProjectorLifecycle projector) {
        this.projector = projector;
    }

    /** The owner of a tenant's usage if it is another instance, else null. */
    public String remoteOwner(String tenantId) {
        KafkaStreams streams = runningStreams();
        KeyQueryMetadata metadata = streams.queryMetadataForKey(ProjectorTopology.DAY_STORE, tenantId, Serdes.String().serializer());
        if (metadata == null || metadata.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
            throw new BillingException.Unavailable("usage_unavailable", "usage state is being assigned; retry");
        }
        String owner = metadata.activeHost().host() + ":" + metadata.activeHost().port();
        return owner.equals(projector.applicationServer()) ? null : owner;
    }

    /** Relays the same query to {@code owner}. */
    public Forwarded forward(String owner, String pathAndQuery, String authorization) {
        var request = HttpRequest.newBuilder(URI.create("http://" + owner + pathAndQuery)).timeout(Duration.ofSeconds(10))
                .header(FORWARDED_HEADER, "true").GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Forwarded(response.statusCode(), response.headers().firstValue("Content-Type").orElse("application/json"),
                    response.body());
        } catch (IOException e) {
            throw new BillingException.Unavailable("usage_unavailable", "the instance that owns this tenant's usage did not answer; retry");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BillingException.Unavailable("usage_unavailable", "interrupted");
        }
    }

    /** The usage of {@code tenantId} in {@code [from, to)} held by this instance. */
    public UsageReport local(String tenantId, Granularity granularity, Instant from, Instant to) {
        KafkaStreams streams = runningStreams();
        ZoneId zone = zoneOf(streams, tenantId);
        Map<String, UsageBucket> buckets;
        try {
            if (granularity == Granularity.MINUTE) {
                ReadOnlyWindowStore<String, String> minutes = streams.store(StoreQueryParameters.fromNameAndType(
                        ProjectorTopology.MINUTE_STORE, QueryableStoreTypes.windowStore()));
                buckets = UsageStoreReads.minutes(minutes, tenantId, from, to);
            } else {
                ReadOnlyKeyValueStore<String, String> days = streams.store(StoreQueryParameters.fromNameAndType(
                        ProjectorTopology.DAY_STORE, QueryableStoreTypes.keyValueStore()));
                buckets = UsageStoreReads.days(days, tenantId, from.atZone(zone).toLocalDate(), to.minusMillis(1).atZone(zone).toLocalDate(),
                        granularity == Granularity.MONTH);
            }
        } catch (InvalidStateStoreException e) {
            throw new BillingException.Unavailable("usage_unavailable", "usage state is being restored or moved; retry");
        }
        return report(tenantId, granularity, from, to, zone, buckets);
    }

    private UsageReport report(String tenantId, Granularity granularity, Instant from, Instant to, ZoneId zone,
                               Map<String, UsageBucket> buckets) {
        var list = new ArrayList<UsageReport.Bucket>();
        UsageBucket total = UsageBucket.EMPTY;
        for (Map.Entry<String, UsageBucket> entry : buckets.entrySet()) {
            String[] parts = entry.getKey().split("\\|", -1);
            UsageBucket b = entry.getValue();
            list.add(new UsageReport.Bucket(parts[0], parts[1].equals(UsageKeys.NO_KEY) ? null : parts[1], parts[2], b.uncachedPrompt(),
                    b.cachedPrompt(), b.completion(), b.totalTokens(), b.events(), rounded(b)));
            total = total.plus(b);
        }
        return new UsageReport(tenantId, granularity.name().toLowerCase(), from.toString(), to.toString(), zone.getId(), List.copyOf(list),
                new UsageReport.Totals(total.uncachedPrompt(), total.cachedPrompt(), total.completion(), total.totalTokens(), total.events(),
                        rounded(total)), projector.instanceId());
    }

    private static long rounded(UsageBucket bucket) {
        return bucket.spendMicros().setScale(0, RoundingMode.HALF_EVEN).longValueExact();
    }

    /** The tenant's billing zone from the projector's global tenants store (UTC if unknown). */
    public ZoneId zoneOf(String tenantId) {
        return zoneOf(runningStreams(), tenantId);
    }

    private static ZoneId zoneOf(KafkaStreams streams, String tenantId) {
        try {
            ReadOnlyKeyValueStore<String, byte[]> tenants = streams.store(StoreQueryParameters.fromNameAndType(
                    ProjectorTopology.TENANTS_STORE, QueryableStoreTypes.keyValueStore()));
            byte[] json = tenants.get(tenantId);
            return json == null ? ZoneId.of("UTC") : ZoneId.of(EventCodec.decodeState(json, TenantState.class).billingTimeZone());
        } catch (InvalidStateStoreException e) {
            throw new BillingException.Unavailable("usage_unavailable", "tenant state is being restored; retry");
        }
    }

    private KafkaStreams runningStreams() {
        KafkaStreams streams = projector.streams();
        if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
            throw new BillingException.Unavailable("usage_unavailable", "the projector is starting or rebalancing; retry");
        }
        return streams;
    }
}
