package dev.tollgate.ledger.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.json.EventCodec;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Plans and price lists read back as published, a future price list included (the console's scheduled changes). */
class PricingReadIT extends LedgerTestSupport {

    @Test
    void plansAndPriceListsReadBackWithTheirEffectiveTimes() throws Exception {
        String admin = platformAdmin();
        String plan = newTenantId("read-plan");
        assertThat(call("PUT", "/admin/v1/plans/" + plan, admin, "{\"name\":\"Readable\",\"defaultLimits\":{\"requestsPerMinute\":7}}")
                .statusCode()).isEqualTo(200);
        for (String from : List.of("2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z")) {
            assertThat(call("POST", "/admin/v1/price-lists", admin, "{\"planId\":\"" + plan + "\",\"currency\":\"USD\",\"effectiveFrom\":\"" + from
                    + "\",\"backfill\":" + from.startsWith("2026") + ",\"prices\":[{\"model\":\"m\",\"inputMicrosPerMillionTokens\":11,"
                    + "\"cachedInputMicrosPerMillionTokens\":5,\"outputMicrosPerMillionTokens\":22}]}").statusCode()).isEqualTo(201);
        }
        String billing = token("finance@test", List.of("billing"), null);
        JsonNode lists = await().atMost(Duration.ofSeconds(20)).until(
                () -> EventCodec.mapper().readTree(call("GET", "/admin/v1/price-lists?planId=" + plan, billing, null).body()),
                node -> node.isArray() && node.size() == 2);
        assertThat(lists.get(0).path("effectiveFrom").asText()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(lists.get(1).path("effectiveFrom").asText()).isEqualTo("2099-01-01T00:00:00Z");
        assertThat(lists.get(1).path("prices").get(0).path("outputMicrosPerMillionTokens").asLong()).isEqualTo(22);
        JsonNode plans = EventCodec.mapper().readTree(call("GET", "/admin/v1/plans", billing, null).body());
        JsonNode mine = null;
        for (JsonNode p : plans) {
            if (p.path("planId").asText().equals(plan)) {
                mine = p;
            }
        }
        assertThat(mine).isNotNull();
        assertThat(mine.path("name").asText()).isEqualTo("Readable");
        assertThat(mine.path("defaultLimits").path("requestsPerMinute").asLong()).isEqualTo(7);
        assertThat(call("GET", "/admin/v1/plans", token("t@test", List.of("tenant-admin"), "some-tenant"), null).statusCode()).isEqualTo(403);
    }
}
