package dev.tollgate.gateway.scheduling;

import dev.tollgate.gateway.auth.Principal;
import dev.tollgate.gateway.upstream.UpstreamConfig;
import dev.tollgate.schemas.ledger.Limits;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PriorityClassesTest {
    private final PriorityClasses classes = new PriorityClasses(UpstreamConfig.Scheduling.DEFAULT);

    @Test
    void aTenantWithoutAClassGetsTheDefaultAndWeightOne() {
        Principal principal = principal(null, null, null);
        assertThat(classes.name(classes.of(principal))).isEqualTo("standard");
        assertThat(PriorityClasses.weight(principal)).isEqualTo(1);
    }

    @Test
    void theTenantsClassAndWeightComeFromItsEffectiveLimits() {
        Principal principal = principal("interactive", 3, null);
        assertThat(classes.name(classes.of(principal))).isEqualTo("interactive");
        assertThat(PriorityClasses.weight(principal)).isEqualTo(3);
    }

    @Test
    void aKeyMayMoveItsRequestsDownButNeverAboveItsTenant() {
        assertThat(classes.name(classes.of(principal("interactive", null, "batch")))).isEqualTo("batch");
        assertThat(classes.name(classes.of(principal("batch", null, "interactive")))).isEqualTo("batch");
        assertThat(classes.name(classes.of(principal(null, null, "interactive")))).as("above the default").isEqualTo("standard");
    }

    @Test
    void aClassTheGatewayDoesNotKnowIsTheLowest() {
        assertThat(classes.name(classes.of(principal("platinum", null, null)))).isEqualTo("batch");
    }

    @Test
    void theCallersPriorityFieldNeverReachesAServerAndThePoolsValueDoes() {
        var vllm = pool("{field: priority, values: {interactive: -10, standard: 0, batch: 10}}");
        JsonObject body = new JsonObject().put("model", "m").put("priority", -1000);
        UpstreamPriority.applyTo(body, vllm, "batch");
        assertThat(body.getInteger("priority")).isEqualTo(10);
        assertThat(UpstreamPriority.header(vllm, "batch")).isEmpty();

        JsonObject plain = new JsonObject().put("model", "m").put("priority", -1000);
        UpstreamPriority.applyTo(plain, pool(null), "batch");
        assertThat(plain.containsKey("priority")).as("a pool without the hint is sent no priority at all").isFalse();
    }

    @Test
    void aPoolMayReadTheClassFromAHeader() {
        var dynamo = pool("{header: x-request-priority, values: {interactive: 1, standard: 2, batch: 3}}");
        JsonObject body = new JsonObject().put("model", "m");
        UpstreamPriority.applyTo(body, dynamo, "interactive");
        assertThat(body.fieldNames()).containsExactly("model");
        assertThat(UpstreamPriority.header(dynamo, "interactive")).contains(new UpstreamPriority.Header("x-request-priority", "1"));
    }

    @Test
    void aPriorityHintMustNameAValueForEveryClass() {
        assertThatThrownBy(() -> pool("{field: priority, values: {interactive: 0}}"))
                .hasMessageContaining("pools.p.priority.values must give a value for each class [interactive, standard, batch]");
        assertThatThrownBy(() -> UpstreamConfig.parse("scheduling: {classes: [gold, silver], defaultClass: bronze}\n"
                + "pools: {p: {endpoints: [{url: 'http://a'}]}}\nmodels: {m: {pool: p}}\n"))
                .hasMessageContaining("scheduling.defaultClass must be one of scheduling.classes [gold, silver]");
    }

    @Test
    void classesAreConfigurable() {
        var config = UpstreamConfig.parse("scheduling: {classes: [realtime, interactive, standard, batch, bulk], defaultClass: bulk}\n"
                + "pools: {p: {endpoints: [{url: 'http://a'}]}}\nmodels: {m: {pool: p}}\n");
        var five = new PriorityClasses(config.scheduling());
        assertThat(five.count()).isEqualTo(5);
        assertThat(five.name(five.of(principal(null, null, null)))).isEqualTo("bulk");
        assertThat(five.name(five.of(principal("realtime", null, null)))).isEqualTo("realtime");
    }

    private static UpstreamConfig.Pool pool(String priority) {
        return UpstreamConfig.parse("pools: {p: {" + (priority == null ? "" : "priority: " + priority + ", ")
                + "endpoints: [{url: 'http://a'}]}}\nmodels: {m: {pool: p}}\n").pools().get("p");
    }

    private static Principal principal(String tenantClass, Integer weight, String keyClass) {
        return new Principal("t", "k", List.of(), new Limits(null, null, null, null, null, null, keyClass, null),
                new Limits(null, null, null, null, null, null, tenantClass, weight), "plan", List.of());
    }
}
