package dev.tollgate.ledger.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.event.CloudEvent;
import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.Endpoint;
import dev.tollgate.testkit.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prepaid credit through the admin API (ADR 0027), observed where the gateway and the projector
 * observe it: grants, voids and billing modes on tenants.state.v1 and as events on ledger.events.v1;
 * a payment grants once however often it is confirmed; bad input gets a problem document.
 */
class CreditGrantsIT extends LedgerTestSupport {

    private static JsonNode json(HttpResponse<String> response) {
        try {
            return EventCodec.mapper().readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError(response.body(), e);
        }
    }

    private TenantState latestTenantState(String tenant, Predicate<TenantState> until) {
        List<ConsumerRecord<String, byte[]>> records = TopicReader.awaitRecord(kafka(), Topics.TENANTS_STATE.name(),
                r -> r.key().equals(tenant) && until.test(EventCodec.decodeState(r.value(), TenantState.class)), Duration.ofSeconds(30));
        return records.stream().filter(r -> r.key().equals(tenant)).map(r -> EventCodec.decodeState(r.value(), TenantState.class))
                .filter(until).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void grantsVoidsAndTheBillingModeReachTheTenantStateAndAPaymentGrantsOnce() {
        String admin = platformAdmin();
        String finance = token("finance", List.of("billing"), null);
        String tenant = newTenantId("prepaid");
        assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"" + tenant + "\"}").statusCode())
                .isEqualTo(201);

        HttpResponse<String> mode = call("PUT", "/admin/v1/tenants/" + tenant + "/billing-mode", finance, "{\"mode\":\"PREPAID\"}");
        assertThat(mode.statusCode()).isEqualTo(200);
        // "Now" is answered as the instant the ledger recorded, so the caller knows from when usage burns credit.
        assertThat(Instant.parse(json(mode).path("effectiveFrom").asText()))
                .isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(1));
        Instant expires = Instant.now().plus(Duration.ofDays(30));
        HttpResponse<String> promo = call("POST", "/admin/v1/tenants/" + tenant + "/credit-grants", finance,
                "{\"amountMicros\":2000000,\"source\":\"PROMOTION\",\"expiresAt\":\"" + expires + "\",\"priority\":10,\"models\":[\"m\"],"
                        + "\"endpoints\":[\"CHAT_COMPLETIONS\",\"COMPLETIONS\",\"CHAT_COMPLETIONS\"]}");
        assertThat(promo.statusCode()).as(promo.body()).isEqualTo(201);
        String promoId = json(promo).path("grantId").asText();
        assertThat(promoId).matches("cg_[0-9a-f]{32}");
        String purchaseBody = "{\"amountMicros\":50000000,\"source\":\"PURCHASE\",\"externalId\":\"cs_test_" + tenant + "\"}";
        String purchaseId = json(call("POST", "/admin/v1/tenants/" + tenant + "/credit-grants", finance, purchaseBody)).path("grantId").asText();
        // The same payment confirmed again: the first grant's id, nothing granted twice.
        HttpResponse<String> again = call("POST", "/admin/v1/tenants/" + tenant + "/credit-grants", finance, purchaseBody);
        assertThat(again.statusCode()).isEqualTo(201);
        assertThat(json(again).path("grantId").asText()).isEqualTo(purchaseId);
        assertThat(call("POST", "/admin/v1/tenants/" + tenant + "/credit-grants/" + promoId + ":void", finance, "{\"reason\":\"campaign ended\"}")
                .statusCode()).isEqualTo(204);

        TenantState state = latestTenantState(tenant, t -> t.credits() != null && t.credits().size() == 2
                && t.credits().stream().anyMatch(c -> c.voidedAt() != null));
        assertThat(state.billingModes()).singleElement().satisfies(m -> assertThat(m.mode()).isEqualTo(BillingMode.PREPAID));
        CreditGrant voided = state.credits().stream().filter(c -> c.grantId().equals(promoId)).findFirst().orElseThrow();
        assertThat(voided.amountMicros()).isEqualTo(2_000_000);
        assertThat(voided.priority()).isEqualTo(10);
        assertThat(voided.models()).containsExactly("m");
        assertThat(voided.endpoints()).containsExactly(Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS);
        assertThat(voided.expiresAt()).isEqualTo(expires);
        assertThat(voided.voidedAt()).isAfter(voided.grantedAt());
        CreditGrant purchase = state.credits().stream().filter(c -> c.grantId().equals(purchaseId)).findFirst().orElseThrow();
        assertThat(purchase.source()).isEqualTo(CreditSource.PURCHASE);
        assertThat(purchase.priority()).isEqualTo(50);
        assertThat(purchase.endpoints()).as("every endpoint").isEmpty();

        List<String> types = TopicReader.readAll(kafka(), Topics.LEDGER_EVENTS.name()).stream().filter(r -> tenant.equals(r.key()))
                .map(r -> EventCodec.decode(r.value())).map(CloudEvent::type).toList();
        assertThat(types).containsSubsequence(EventType.LEDGER_BILLINGMODE_SET.typeName(), EventType.LEDGER_CREDIT_GRANTED.typeName(),
                EventType.LEDGER_CREDIT_GRANTED.typeName(), EventType.LEDGER_CREDIT_VOIDED.typeName());
        assertThat(types.stream().filter(EventType.LEDGER_CREDIT_GRANTED.typeName()::equals)).hasSize(2);

        // The admin API lists them with what the state leaves out; a tenant-admin sees its own.
        JsonNode listed = json(call("GET", "/admin/v1/tenants/" + tenant + "/credit-grants", token("ta", List.of("tenant-admin"), tenant), null));
        assertThat(listed).hasSize(2);
        assertThat(listed.get(0).path("voidReason").asText()).isEqualTo("campaign ended");
        assertThat(listed.get(0).path("endpoints").toString()).isEqualTo("[\"CHAT_COMPLETIONS\",\"COMPLETIONS\"]");
        assertThat(listed.get(1).path("externalId").asText()).isEqualTo("cs_test_" + tenant);
    }

    @Test
    void badGrantsAndVoidsAreRefusedWithAProblemDocument() {
        String admin = platformAdmin();
        String tenant = newTenantId("prepaid-bad");
        assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"" + tenant + "\"}").statusCode())
                .isEqualTo(201);
        String grants = "/admin/v1/tenants/" + tenant + "/credit-grants";
        for (String body : List.of("{\"source\":\"PROMOTION\"}", "{\"amountMicros\":-5,\"source\":\"PROMOTION\"}",
                "{\"amountMicros\":5}", "{\"amountMicros\":5,\"source\":\"ADJUSTMENT\"}", "{\"amountMicros\":5,\"source\":\"GIFT\"}",
                "{\"amountMicros\":5,\"source\":\"PROMOTION\",\"expiresAt\":\"2020-01-01T00:00:00Z\"}",
                "{\"amountMicros\":5,\"source\":\"PROMOTION\",\"priority\":500}",
                "{\"amountMicros\":5,\"source\":\"PROMOTION\",\"endpoints\":[\"AUDIO\"]}",
                "{\"amountMicros\":5,\"source\":\"PROMOTION\",\"endpoints\":[null]}")) {
            HttpResponse<String> response = call("POST", grants, admin, body);
            assertThat(response.statusCode()).as(body + " -> " + response.body()).isBetween(400, 422);
            assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("application/problem+json");
        }
        assertThat(call("POST", grants + "/cg_00000000000000000000000000000000:void", admin, "{\"reason\":\"x\"}").statusCode()).isEqualTo(404);
        assertThat(call("PUT", "/admin/v1/tenants/" + tenant + "/billing-mode", admin, "{\"mode\":\"FREE\"}").statusCode()).isBetween(400, 422);
        assertThat(call("POST", "/admin/v1/tenants/nobody-" + tenant + "/credit-grants", admin, "{\"amountMicros\":5,\"source\":\"PROMOTION\"}")
                .statusCode()).isEqualTo(404);
    }

    @Test
    void aPlansModeAppliesToItsTenantsFromItsDefinitionUnlessATenantHasItsOwnUntilItIsCleared() {
        String admin = platformAdmin();
        String finance = token("finance", List.of("billing"), null);
        String plan = newTenantId("starter");
        assertThat(call("PUT", "/admin/v1/plans/" + plan, admin, "{\"name\":\"Starter\",\"billingMode\":\"PREPAID\"}").statusCode())
                .isEqualTo(200);
        String tenant = newTenantId("on-starter");
        assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"" + tenant + "\",\"planId\":\""
                + plan + "\"}").statusCode()).isEqualTo(201);
        TenantState onPlan = latestTenantState(tenant, t -> t.billingModes() != null);
        assertThat(onPlan.billingModes()).extracting(BillingModePeriod::mode).containsExactly(BillingMode.PREPAID);
        JsonNode listed = json(call("GET", "/admin/v1/plans", admin, null));
        JsonNode starter = StreamSupport.stream(listed.spliterator(), false).filter(p -> p.path("planId").asText().equals(plan))
                .findFirst().orElseThrow();
        assertThat(starter.path("billingMode").asText()).isEqualTo("PREPAID");

        // The tenant's own mode wins; cleared, the plan's applies again; the plan made postpaid, its tenants follow.
        assertThat(call("PUT", "/admin/v1/tenants/" + tenant + "/billing-mode", finance, "{\"mode\":\"HYBRID\"}").statusCode()).isEqualTo(200);
        assertThat(latestTenantState(tenant, t -> t.billingModes() != null && t.billingModes().size() == 2).billingModes())
                .extracting(BillingModePeriod::mode).containsExactly(BillingMode.PREPAID, BillingMode.HYBRID);
        HttpResponse<String> cleared = call("DELETE", "/admin/v1/tenants/" + tenant + "/billing-mode", finance, null);
        assertThat(cleared.statusCode()).as(cleared.body()).isEqualTo(200);
        assertThat(json(cleared).path("mode").isNull()).isTrue();
        assertThat(latestTenantState(tenant, t -> t.billingModes() != null && t.billingModes().size() == 3).billingModes())
                .extracting(BillingModePeriod::mode).containsExactly(BillingMode.PREPAID, BillingMode.HYBRID, BillingMode.PREPAID);
        assertThat(call("PUT", "/admin/v1/plans/" + plan, admin, "{\"name\":\"Starter\"}").statusCode()).isEqualTo(200);
        List<BillingModePeriod> modes = latestTenantState(tenant, t -> t.billingModes() != null && t.billingModes().size() == 4).billingModes();
        assertThat(modes).extracting(BillingModePeriod::mode)
                .containsExactly(BillingMode.PREPAID, BillingMode.HYBRID, BillingMode.PREPAID, BillingMode.POSTPAID);
        assertThat(modes.getLast().effectiveFrom()).isAfter(modes.get(2).effectiveFrom());

        // The same from the log alone: the events carry what the audit needs (the plan's mode, the tenant's choices).
        List<String> types = TopicReader.readAll(kafka(), Topics.LEDGER_EVENTS.name()).stream().map(r -> EventCodec.decode(r.value()))
                .filter(e -> tenant.equals(e.subject()) || plan.equals(e.subject())).map(CloudEvent::type).toList();
        // (The plan's events and the tenant's are on different partitions: ordered each on its own.)
        assertThat(types).containsSubsequence(EventType.LEDGER_BILLINGMODE_SET.typeName(), EventType.LEDGER_BILLINGMODE_CLEARED.typeName());
        assertThat(types.stream().filter(EventType.LEDGER_PLAN_DEFINED.typeName()::equals)).hasSize(2);
        assertThat(call("DELETE", "/admin/v1/tenants/" + tenant + "/billing-mode?effectiveFrom=2020-01-01T00:00:00Z", finance, null).statusCode())
                .isBetween(400, 422);
        assertThat(call("DELETE", "/admin/v1/tenants/" + tenant + "/billing-mode", token("ta", List.of("tenant-admin"), tenant), null)
                .statusCode()).isEqualTo(403);
    }
}
