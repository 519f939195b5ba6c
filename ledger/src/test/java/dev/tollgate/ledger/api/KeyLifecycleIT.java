package dev.tollgate.ledger.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventData;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.key.WebhookSecrets;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.testkit.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The key lifecycle through the admin API, observed where the gateway will observe it: the state
 * topics. Also: events on ledger.events.v1 by id, the audit trail, idempotent POSTs, and no secret
 * anywhere in the logs, the event store or the database.
 */
@ExtendWith(OutputCaptureExtension.class)
class KeyLifecycleIT extends LedgerTestSupport {

    private static JsonNode json(HttpResponse<String> response) {
        try {
            return EventCodec.mapper().readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError(response.body(), e);
        }
    }

    private KeyState awaitKeyState(String keyId, Predicate<KeyState> match) {
        List<ConsumerRecord<String, byte[]>> records = TopicReader.awaitRecord(kafka(), Topics.KEYS_STATE.name(),
                r -> r.key().equals(keyId) && match.test(EventCodec.decodeState(r.value(), KeyState.class)), Duration.ofSeconds(30));
        return records.stream().filter(r -> r.key().equals(keyId)).map(r -> EventCodec.decodeState(r.value(), KeyState.class))
                .filter(match).reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no matching state of key " + keyId));
    }

    /** Plans "basic" (60 RPM) and "gold" (6,000 RPM) under fresh ids, and a new tenant on basic. */
    private record TwoPlans(String admin, String basic, String gold, String tenant) {}

    private TwoPlans tenantOnBasic(String prefix) throws Exception {
        String admin = platformAdmin();
        String basic = newTenantId("basic");
        String gold = newTenantId("gold");
        call("PUT", "/admin/v1/plans/" + basic, admin, "{\"name\":\"Basic\",\"defaultLimits\":{\"requestsPerMinute\":60}}");
        call("PUT", "/admin/v1/plans/" + gold, admin, "{\"name\":\"Gold\",\"defaultLimits\":{\"requestsPerMinute\":6000}}");
        String tenant = newTenantId(prefix);
        HttpResponse<String> created = call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"" + tenant + "\","
                + "\"billingTimeZone\":\"UTC\",\"currency\":\"USD\",\"planId\":\"" + basic + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return new TwoPlans(admin, basic, gold, tenant);
    }

    @Test
    void aPlanScheduledForLaterIsPublishedInTheHistoryWithoutChangingTheCurrentPlanOrLimits() throws Exception {
        TwoPlans plans = tenantOnBasic("sched");
        Instant nextMonth = Instant.now().plus(Duration.ofDays(31)).truncatedTo(ChronoUnit.SECONDS);
        HttpResponse<String> scheduled = call("PUT", "/admin/v1/tenants/" + plans.tenant() + "/plan", plans.admin(),
                "{\"planId\":\"" + plans.gold() + "\",\"effectiveFrom\":\"" + nextMonth + "\"}");
        assertThat(scheduled.statusCode()).as(scheduled.body()).isBetween(200, 204);

        TenantState state = latestTenantState(plans.tenant(), t -> t.plans() != null && t.plans().size() == 2);
        assertThat(state.planId()).isEqualTo(plans.basic());
        assertThat(state.limits().requestsPerMinute()).isEqualTo(60L);
        assertThat(state.plans()).extracting(PlanPeriod::planId).containsExactly(plans.basic(), plans.gold());
        assertThat(state.plans().get(1).effectiveFrom()).isEqualTo(nextMonth);

        // An assignment without a date is in force at once; the scheduled one stays in the history after it.
        call("PUT", "/admin/v1/tenants/" + plans.tenant() + "/plan", plans.admin(), "{\"planId\":\"" + plans.gold() + "\"}");
        TenantState now = latestTenantState(plans.tenant(), t -> t.plans() != null && t.plans().size() == 3);
        assertThat(now.planId()).isEqualTo(plans.gold());
        assertThat(now.limits().requestsPerMinute()).isEqualTo(6000L);
        assertThat(now.plans()).extracting(PlanPeriod::planId).containsExactly(plans.basic(), plans.gold(), plans.gold());
        assertThat(now.plans()).extracting(PlanPeriod::effectiveFrom).isSorted();
        assertThat(now.allowUnpricedUsage()).as("a plan refuses unpriced models unless it says otherwise").isFalse();

        // The plan starts to allow unpriced models: every tenant on it is published again with the flag.
        call("PUT", "/admin/v1/plans/" + plans.gold(), plans.admin(),
                "{\"name\":\"Gold\",\"defaultLimits\":{\"requestsPerMinute\":6000},\"allowUnpricedUsage\":true}");
        assertThat(latestTenantState(plans.tenant(), t -> Boolean.TRUE.equals(t.allowUnpricedUsage())).planId()).isEqualTo(plans.gold());
    }

    @Test
    void aScheduledPlanBecomesTheCurrentPlanWithItsLimitsWhenItsTimeComesWithoutAnyOtherChange() throws Exception {
        TwoPlans plans = tenantOnBasic("switch");
        Instant soon = Instant.now().plusSeconds(3).truncatedTo(ChronoUnit.MILLIS);
        call("PUT", "/admin/v1/tenants/" + plans.tenant() + "/plan", plans.admin(),
                "{\"planId\":\"" + plans.gold() + "\",\"effectiveFrom\":\"" + soon + "\"}");
        assertThat(latestTenantState(plans.tenant(), t -> t.plans() != null && t.plans().size() == 2).planId()).isEqualTo(plans.basic());

        TenantState switched = latestTenantState(plans.tenant(), t -> plans.gold().equals(t.planId()));
        Instant seen = Instant.now();
        assertThat(seen).as("not before its time").isAfterOrEqualTo(soon);
        assertThat(switched.limits().requestsPerMinute()).isEqualTo(6000L);
        assertThat(switched.plans()).extracting(PlanPeriod::planId).containsExactly(plans.basic(), plans.gold());
        System.out.printf("[plan-switch] published %d ms after the scheduled time%n", Duration.between(soon, seen).toMillis());
        assertThat(Duration.between(soon, seen)).as("the sweep runs every second").isLessThan(Duration.ofSeconds(10));
    }

    private TenantState latestTenantState(String tenant, Predicate<TenantState> until) {
        List<ConsumerRecord<String, byte[]>> records = TopicReader.awaitRecord(kafka(), Topics.TENANTS_STATE.name(),
                r -> r.key().equals(tenant) && until.test(tenant(r)), Duration.ofSeconds(30));
        return records.stream().filter(r -> r.key().equals(tenant)).map(KeyLifecycleIT::tenant).filter(until).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void issueRotateRevokeAppearOnTheStateTopicsAndNoSecretIsStoredOrLogged(CapturedOutput output) throws Exception {
        String admin = platformAdmin();
        String plan = newTenantId("plan");
        String tenant = newTenantId("acme");
        assertThat(call("PUT", "/admin/v1/plans/" + plan, admin,
                "{\"name\":\"Pro\",\"defaultLimits\":{\"requestsPerMinute\":600,\"maxConcurrentRequests\":16}}").statusCode()).isEqualTo(200);
        HttpResponse<String> created = call("POST", "/admin/v1/tenants", admin,
                "{\"tenantId\":\"" + tenant + "\",\"name\":\"Acme " + tenant + "\",\"billingTimeZone\":\"Europe/Berlin\",\"currency\":\"eur\",\"planId\":\"" + plan + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

        HttpResponse<String> issued = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin,
                "{\"name\":\"ci\",\"scopes\":[\"inference\"],\"allowedModels\":[\"fake-chat\"]}");
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
        String keyId = json(issued).path("keyId").asText();
        String firstToken = json(issued).path("apiKey").asText();

        KeyState active = awaitKeyState(keyId, k -> k.status() == KeyState.Status.ACTIVE);
        assertThat(active.tenantId()).isEqualTo(tenant);
        assertThat(active.allowedModels()).containsExactly("fake-chat");
        assertThat(ApiKeys.verify(ApiKeys.parse(firstToken).orElseThrow(), active.secrets().getFirst().hash())).isTrue();

        List<ConsumerRecord<String, byte[]>> tenantStates = TopicReader.awaitRecord(kafka(), Topics.TENANTS_STATE.name(),
                r -> r.key().equals(tenant) && tenant(r).planId() != null, Duration.ofSeconds(30));
        TenantState state = tenantStates.stream().filter(r -> r.key().equals(tenant)).map(KeyLifecycleIT::tenant)
                .reduce((a, b) -> b).orElseThrow();
        assertThat(state.planId()).isEqualTo(plan);
        assertThat(state.currency()).isEqualTo("EUR");
        assertThat(state.limits().requestsPerMinute()).isEqualTo(600L);

        HttpResponse<String> rotated = call("POST", "/admin/v1/keys/" + keyId + ":rotate", admin, "{\"gracePeriodSeconds\":3600}");
        assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
        String secondToken = json(rotated).path("apiKey").asText();
        KeyState duringGrace = awaitKeyState(keyId, k -> k.secrets().size() == 2);
        for (String token : List.of(firstToken, secondToken)) {
            var presented = ApiKeys.parse(token).orElseThrow();
            assertThat(duringGrace.secrets()).as("both keys valid during the grace period")
                    .anySatisfy(secret -> assertThat(ApiKeys.verify(presented, secret.hash())).isTrue());
        }
        KeyState.Secret old = duringGrace.secrets().stream().filter(s -> s.validUntil() != null).findFirst().orElseThrow();
        assertThat(ApiKeys.verify(ApiKeys.parse(firstToken).orElseThrow(), old.hash())).isTrue();
        assertThat(old.validUntil()).isBetween(Instant.now().plusSeconds(3500), Instant.now().plusSeconds(3700));

        assertThat(call("POST", "/admin/v1/keys/" + keyId + ":revoke", admin, "{\"reason\":\"leaked\"}").statusCode()).isEqualTo(200);
        KeyState revoked = awaitKeyState(keyId, k -> k.status() == KeyState.Status.REVOKED);
        assertThat(revoked.secrets()).isEmpty();
        assertThat(revoked.version()).isGreaterThan(duringGrace.version());
        assertThat(call("POST", "/admin/v1/keys/" + keyId + ":rotate", admin, "{}").statusCode())
                .as("no rotation of a revoked key").isEqualTo(409);

        // Every event of the tenant's history is on ledger.events.v1, once by id, in order.
        JsonNode history = json(call("GET", "/admin/v1/tenants/" + tenant + "/events", admin, null));
        var storeIds = new ArrayList<String>();
        history.path("events").forEach(e -> storeIds.add(e.path("id").asText()));
        assertThat(history.path("events").get(0).path("actor").asText()).isEqualTo("ops@platform");
        assertThat(history.toString()).as("no key's secret hash in the history").doesNotContain("secretHash", "newSecretHash", "sha256-v1")
                .contains("dev.tollgate.ledger.key.issued.v1");
        List<CloudEvent<EventData>> published = TopicReader.awaitRecord(kafka(), Topics.LEDGER_EVENTS.name(),
                        r -> EventCodec.decode(r.value()).id().equals(storeIds.getLast()), Duration.ofSeconds(30))
                .stream().map(r -> EventCodec.decode(r.value())).filter(e -> e.tenantid().equals(tenant)).toList();
        assertThat(published.stream().map(CloudEvent::id).distinct().toList()).isEqualTo(storeIds);
        assertThat(published).extracting(CloudEvent::type).containsSubsequence(
                "dev.tollgate.ledger.tenant.created.v1", "dev.tollgate.ledger.plan.assigned.v1", "dev.tollgate.ledger.key.issued.v1",
                "dev.tollgate.ledger.key.rotated.v1", "dev.tollgate.ledger.key.revoked.v1");

        // No secret in the logs, the event store, or any table.
        for (String token : List.of(firstToken, secondToken)) {
            String secret = ApiKeys.parse(token).orElseThrow().secret();
            assertThat(output.getAll()).doesNotContain(secret);
            assertThat(everythingStored()).doesNotContain(secret);
        }
    }

    @Test
    void aWebhookSecretIsShownOnceRotatesOnEveryConfigurationAndIsStoredNowhere(CapturedOutput output) throws Exception {
        String admin = platformAdmin();
        String tenant = newTenantId("hook");
        call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"H " + tenant + "\"}");
        String tenantAdmin = token("owner@" + tenant, List.of("tenant-admin"), tenant);

        HttpResponse<String> first = call("PUT", "/admin/v1/tenants/" + tenant + "/webhook", tenantAdmin, "{\"url\":\"https://hooks.example/a\"}");
        HttpResponse<String> second = call("PUT", "/admin/v1/tenants/" + tenant + "/webhook", tenantAdmin, "{\"url\":\"https://hooks.example/b\"}");
        HttpResponse<String> insecure = call("PUT", "/admin/v1/tenants/" + tenant + "/webhook", tenantAdmin, "{\"url\":\"http://hooks.example/b\"}");

        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(json(first).path("secretVersion").asInt()).isEqualTo(1);
        assertThat(json(second).path("secretVersion").asInt()).isEqualTo(2);
        String secret1 = json(first).path("signingSecret").asText();
        String secret2 = json(second).path("signingSecret").asText();
        assertThat(secret1).startsWith("whsec_").isNotEqualTo(secret2);
        assertThat(secret2).isEqualTo(WebhookSecrets.derive(
                WEBHOOK_MASTER_KEY.getBytes(StandardCharsets.UTF_8), tenant, 2));
        assertThat(insecure.statusCode()).isEqualTo(422);
        List<ConsumerRecord<String, byte[]>> states = TopicReader.awaitRecord(kafka(), Topics.TENANTS_STATE.name(),
                r -> r.key().equals(tenant) && Integer.valueOf(2).equals(tenant(r).webhookSecretVersion()), Duration.ofSeconds(30));
        assertThat(states.stream().filter(r -> r.key().equals(tenant)).map(KeyLifecycleIT::tenant).reduce((a, b) -> b).orElseThrow().webhookUrl())
                .isEqualTo("https://hooks.example/b");
        for (String secret : List.of(secret1, secret2)) {
            assertThat(output.getAll()).doesNotContain(secret.substring(6));
            assertThat(everythingStored()).doesNotContain(secret.substring(6));
        }
    }

    @Test
    void aSuspendedTenantGetsNoNewKeysUntilReinstated() {
        String admin = platformAdmin();
        String tenant = newTenantId("susp");
        call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"S " + tenant + "\"}");
        assertThat(call("POST", "/admin/v1/tenants/" + tenant + ":suspend", admin, "{\"reason\":\"unpaid\"}").statusCode()).isEqualTo(200);

        HttpResponse<String> refused = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}");

        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(json(refused).path("code").asText()).isEqualTo("tenant_suspended");
        assertThat(refused.headers().firstValue("content-type").orElseThrow()).startsWith("application/problem+json");
        assertThat(call("POST", "/admin/v1/tenants/" + tenant + ":reinstate", admin, null).statusCode()).isEqualTo(200);
        assertThat(call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}").statusCode()).isEqualTo(201);
    }

    @Test
    void aRetriedPostWithTheSameIdempotencyKeyRunsOnceAndNeverRevealsTheSecretAgain() {
        String admin = platformAdmin();
        String tenant = newTenantId("idem");
        call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"I " + tenant + "\"}");
        Map<String, String> key = Map.of("Idempotency-Key", "issue-1");

        HttpResponse<String> first = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}", key);
        HttpResponse<String> retry = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}", key);
        HttpResponse<String> reused = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"other\"}", key);

        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(json(first).path("apiKey").asText()).startsWith("tg_");
        assertThat(retry.statusCode()).isEqualTo(201);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(json(retry).path("keyId").asText()).isEqualTo(json(first).path("keyId").asText());
        assertThat(json(retry).path("apiKey").isNull()).isTrue();
        assertThat(json(retry).path("apiKeyShownOnce").asBoolean()).isTrue();
        assertThat(reused.statusCode()).isEqualTo(422);
        JsonNode history = json(call("GET", "/admin/v1/tenants/" + tenant + "/events", admin, null));
        assertThat(history.path("events").findValuesAsText("type")).filteredOn(t -> t.contains("key.issued")).hasSize(1);
    }

    /** Issue #19 item 10: a stored answer is replayed only to the identity that made the request, never to another tenant's admin. */
    @Test
    void anIdempotentReplayGoesOnlyToTheCallerThatMadeTheRequest() {
        String admin = platformAdmin();
        String tenantA = newTenantId("idem-a");
        String tenantB = newTenantId("idem-b");
        call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenantA + "\",\"name\":\"A " + tenantA + "\"}");
        call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenantB + "\",\"name\":\"B " + tenantB + "\"}");
        Map<String, String> key = Map.of("Idempotency-Key", "shared-" + tenantA);
        String ownAdmin = token("same-person", List.of("tenant-admin"), tenantA);
        String otherTenantsAdmin = token("same-person", List.of("tenant-admin"), tenantB);

        HttpResponse<String> first = call("POST", "/admin/v1/tenants/" + tenantA + "/keys", ownAdmin, "{\"name\":\"k\"}", key);
        HttpResponse<String> replayedToStranger = call("POST", "/admin/v1/tenants/" + tenantA + "/keys", otherTenantsAdmin,
                "{\"name\":\"k\"}", key);
        HttpResponse<String> replayedToOwner = call("POST", "/admin/v1/tenants/" + tenantA + "/keys", ownAdmin, "{\"name\":\"k\"}", key);

        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(replayedToStranger.statusCode()).as("another tenant's admin is authorized anew, and refused").isEqualTo(404);
        assertThat(replayedToStranger.body()).doesNotContain(json(first).path("keyId").asText());
        assertThat(replayedToOwner.statusCode()).isEqualTo(201);
        assertThat(replayedToOwner.headers().firstValue("Idempotent-Replayed")).contains("true");
    }

    /**
     * A claim left without a response (the ledger killed mid-request, or its database gone so that
     * even freeing the key failed): "in progress" while it could still be running, then "outcome
     * unknown", never run a second time and never "in progress" for the key's whole day.
     */
    @Test
    void anIdempotencyKeyWhoseRequestWasInterruptedSaysSoInsteadOfRunningTwiceOrWaitingADay() throws Exception {
        String admin = platformAdmin();
        String tenant = newTenantId("cut");
        call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"C " + tenant + "\"}");
        String idempotencyKey = "interrupted-" + tenant;
        Map<String, String> key = Map.of("Idempotency-Key", idempotencyKey);
        assertThat(call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}", key).statusCode()).isEqualTo(201);

        // As the claim of a request that never got to store its response looks.
        claimWithoutResponse(idempotencyKey, "now()");
        HttpResponse<String> running = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}", key);
        claimWithoutResponse(idempotencyKey, "now() - interval '5 minutes'");
        HttpResponse<String> interrupted = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"k\"}", key);

        assertThat(running.statusCode()).isEqualTo(409);
        assertThat(json(running).path("code").asText()).isEqualTo("request_in_progress");
        assertThat(interrupted.statusCode()).isEqualTo(409);
        assertThat(json(interrupted).path("code").asText()).isEqualTo("request_outcome_unknown");
        assertThat(interrupted.headers().firstValue("content-type").orElseThrow()).startsWith("application/problem+json");
        JsonNode history = json(call("GET", "/admin/v1/tenants/" + tenant + "/events", admin, null));
        assertThat(history.path("events").findValuesAsText("type")).filteredOn(t -> t.contains("key.issued")).hasSize(1);
    }

    private static void claimWithoutResponse(String idempotencyKey, String createdAt) throws SQLException {
        try (var connection = database().connect(); var statement = connection.prepareStatement(
                "UPDATE idempotency_record SET status = NULL, content_type = NULL, response_body = NULL, created_at = " + createdAt
                        + " WHERE idem_key = ?")) {
            statement.setString(1, idempotencyKey);
            assertThat(statement.executeUpdate()).isEqualTo(1);
        }
    }

    @Test
    void aPastPriceListNeedsAnExplicitBackfillByAPlatformAdmin() {
        String admin = platformAdmin();
        String plan = newTenantId("plan");
        call("PUT", "/admin/v1/plans/" + plan, admin, "{\"name\":\"P\"}");
        String prices = "\"prices\":[{\"model\":\"m\",\"inputMicrosPerMillionTokens\":150000,\"cachedInputMicrosPerMillionTokens\":75000,\"outputMicrosPerMillionTokens\":600000}]";
        String past = Instant.now().minus(Duration.ofDays(2)).toString();

        HttpResponse<String> refused = call("POST", "/admin/v1/price-lists", admin,
                "{\"planId\":\"" + plan + "\",\"currency\":\"USD\",\"effectiveFrom\":\"" + past + "\"," + prices + "}");
        HttpResponse<String> byTenantAdmin = call("POST", "/admin/v1/price-lists", token("t", List.of("tenant-admin"), "x"),
                "{\"planId\":\"" + plan + "\",\"currency\":\"USD\",\"effectiveFrom\":\"" + past + "\",\"backfill\":true," + prices + "}");
        HttpResponse<String> backfill = call("POST", "/admin/v1/price-lists", admin,
                "{\"planId\":\"" + plan + "\",\"currency\":\"USD\",\"effectiveFrom\":\"" + past + "\",\"backfill\":true," + prices + "}");
        HttpResponse<String> sameStart = call("POST", "/admin/v1/price-lists", admin,
                "{\"planId\":\"" + plan + "\",\"currency\":\"USD\",\"effectiveFrom\":\"" + past + "\",\"backfill\":true," + prices + "}");

        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(json(refused).path("code").asText()).isEqualTo("effective_from_in_past");
        assertThat(byTenantAdmin.statusCode()).isEqualTo(403);
        assertThat(backfill.statusCode()).as(backfill.body()).isEqualTo(201);
        assertThat(json(backfill).path("backfill").asBoolean()).isTrue();
        String published = json(backfill).path("priceListId").asText();
        assertThat(TopicReader.awaitRecord(kafka(), Topics.PRICELISTS_STATE.name(), r -> r.key().equals(published), Duration.ofSeconds(30)))
                .as("the projector prices from pricelists.state.v1").anyMatch(r -> r.key().equals(published));
        assertThat(sameStart.statusCode()).isEqualTo(409);
        String id = json(backfill).path("priceListId").asText();
        HttpResponse<String> sameId = call("POST", "/admin/v1/price-lists", admin, "{\"priceListId\":\"" + id + "\",\"planId\":\"" + plan
                + "\",\"currency\":\"USD\",\"effectiveFrom\":\"" + past + "\",\"backfill\":true," + prices + "}");
        assertThat(sameId.statusCode()).as("republishing a list id is a conflict, never an edit").isEqualTo(409);
    }

    @Test
    void creatingAnExistingTenantAgainIsAConflict() {
        String admin = platformAdmin();
        String tenant = newTenantId("twice");
        String body = "{\"tenantId\":\"" + tenant + "\",\"name\":\"Twice " + tenant + "\"}";
        assertThat(call("POST", "/admin/v1/tenants", admin, body).statusCode()).isEqualTo(201);

        HttpResponse<String> again = call("POST", "/admin/v1/tenants", admin, body);
        HttpResponse<String> sameNameOtherId = call("POST", "/admin/v1/tenants", admin,
                "{\"tenantId\":\"" + newTenantId("other") + "\",\"name\":\"TWICE " + tenant + "\"}");

        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.headers().firstValue("content-type").orElseThrow()).startsWith("application/problem+json");
        assertThat(sameNameOtherId.statusCode()).isEqualTo(409);
        assertThat(json(sameNameOtherId).path("code").asText()).isEqualTo("tenant_name_taken");
    }

    @Test
    void invalidInputIsAClearProblem() {
        String admin = platformAdmin();
        HttpResponse<String> badJson = call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":");
        HttpResponse<String> badZone = call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + newTenantId("z") + "\",\"name\":\"Z\",\"billingTimeZone\":\"Mars/Base\"}");
        HttpResponse<String> negative = call("PUT", "/admin/v1/plans/" + newTenantId("neg"), admin, "{\"name\":\"N\",\"defaultLimits\":{\"requestsPerMinute\":-1}}");

        assertThat(badJson.statusCode()).isEqualTo(400);
        assertThat(badZone.statusCode()).isEqualTo(422);
        assertThat(json(badZone).path("code").asText()).isEqualTo("invalid_billingTimeZone");
        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(negative.body()).contains("requestsPerMinute");
    }

    private static TenantState tenant(ConsumerRecord<String, byte[]> record) {
        return EventCodec.decodeState(record.value(), TenantState.class);
    }

    /** Every value of every row of every table of the ledger's database, as text. */
    private static String everythingStored() throws Exception {
        var all = new StringBuilder();
        try (var connection = database().connect(); var statement = connection.createStatement()) {
            var tables = new HashSet<String>();
            try (ResultSet rows = statement.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")) {
                while (rows.next()) {
                    tables.add(rows.getString(1));
                }
            }
            for (String table : tables) {
                try (ResultSet rows = statement.executeQuery("SELECT * FROM \"" + table + "\"")) {
                    int columns = rows.getMetaData().getColumnCount();
                    while (rows.next()) {
                        for (int i = 1; i <= columns; i++) {
                            Object value = rows.getObject(i);
                            all.append(value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(value)).append('\n');
                        }
                    }
                }
            }
        }
        assertThat(all).as("the scan read the event store").contains("KeyIssued");
        return all.toString();
    }
}
