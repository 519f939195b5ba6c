package dev.tollgate.schemas;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.schemas.json.EventCodec;
import dev.tollgate.schemas.json.EventFormatException;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.PlanPeriod;
import dev.tollgate.schemas.state.QuotaState;
import dev.tollgate.schemas.state.StateRecord;
import dev.tollgate.schemas.state.TenantState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Golden-file compatibility of the compacted state records. */
class StateExamplesTest {

    static Stream<String> states() {
        return Examples.STATES.keySet().stream().sorted();
    }

    @ParameterizedTest
    @MethodSource("states")
    void committedExampleValidatesParsesAndRoundTrips(String name) {
        byte[] json = Examples.stateBytes(name);
        assertThat(SchemaCatalog.validate("state/" + name + ".schema.json", Examples.tree(json))).isEmpty();

        StateRecord state = EventCodec.decodeState(json, Examples.STATES.get(name));
        byte[] encoded = EventCodec.encodeState(state);

        assertThat(EventCodec.decodeState(encoded, Examples.STATES.get(name))).isEqualTo(state);
        assertThat(SchemaCatalog.validate("state/" + name + ".schema.json", Examples.tree(encoded))).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("states")
    void unknownFieldsAreTolerated(String name) {
        ObjectNode tree = Examples.tree(Examples.stateBytes(name));
        tree.put("addedLater", 1);

        assertThat(EventCodec.decodeState(Examples.bytes(tree), Examples.STATES.get(name)))
                .isEqualTo(EventCodec.decodeState(Examples.stateBytes(name), Examples.STATES.get(name)));
    }

    @ParameterizedTest
    @MethodSource("states")
    void everyRequiredFieldIsEnforced(String name) {
        var required = SchemaCatalog.schema("state/" + name + ".schema.json").getSchemaNode().path("required");
        assertThat(required).isNotEmpty();
        for (var field : required) {
            ObjectNode tree = Examples.tree(Examples.stateBytes(name));
            tree.remove(field.asText());
            assertThatThrownBy(() -> EventCodec.decodeState(Examples.bytes(tree), Examples.STATES.get(name)))
                    .as(name + " without " + field.asText())
                    .isInstanceOf(EventFormatException.class)
                    .hasMessageContaining("'" + field.asText() + "'");
        }
    }

    @Test
    void aTenantStateWithAPlanHistoryValidatesRoundTripsAndTheGoldenOneWithoutItStillParses() {
        ObjectNode tree = Examples.tree(Examples.stateBytes("tenant-state"));
        var plans = tree.putArray("plans");
        plans.addObject().put("planId", "basic").put("effectiveFrom", "2026-01-01T00:00:00Z");
        plans.addObject().put("planId", "pro").put("effectiveFrom", "2026-12-01T00:00:00Z");
        assertThat(SchemaCatalog.validate("state/tenant-state.schema.json", tree)).isEmpty();

        TenantState state = EventCodec.decodeState(Examples.bytes(tree), TenantState.class);
        assertThat(state.plans()).containsExactly(new PlanPeriod("basic", Instant.parse("2026-01-01T00:00:00Z")),
                new PlanPeriod("pro", Instant.parse("2026-12-01T00:00:00Z")));
        assertThat(EventCodec.decodeState(EventCodec.encodeState(state), TenantState.class)).isEqualTo(state);
        assertThat(EventCodec.decodeState(Examples.stateBytes("tenant-state"), TenantState.class).plans()).isNull();

        plans.addObject().put("planId", "");
        assertThat(SchemaCatalog.validate("state/tenant-state.schema.json", tree)).isNotEmpty();
    }

    @Test
    void aPrepaidTenantStateAndACreditQuotaStateValidateAndRoundTripAndTheGoldenOnesStillParse() {
        ObjectNode tree = Examples.tree(Examples.stateBytes("tenant-state"));
        tree.putArray("billingModes").addObject().put("mode", "PREPAID").put("effectiveFrom", "2026-11-01T00:00:00Z");
        tree.putArray("credits").addObject().put("grantId", "cg_1").put("amountMicros", 1_000_000).put("source", "PROMOTION")
                .put("grantedAt", "2026-11-01T00:00:00Z").put("voidedAt", "2026-11-20T00:00:00Z").put("priority", 10)
                .putArray("models").add("llama-3.1-8b");
        assertThat(SchemaCatalog.validate("state/tenant-state.schema.json", tree)).isEmpty();
        TenantState tenant = EventCodec.decodeState(Examples.bytes(tree), TenantState.class);
        assertThat(tenant.billingModes()).containsExactly(new BillingModePeriod(BillingMode.PREPAID, Instant.parse("2026-11-01T00:00:00Z")));
        assertThat(tenant.credits()).containsExactly(new CreditGrant("cg_1", 1_000_000, CreditSource.PROMOTION,
                Instant.parse("2026-11-01T00:00:00Z"), null, Instant.parse("2026-11-20T00:00:00Z"), 10, List.of("llama-3.1-8b")));
        assertThat(EventCodec.decodeState(EventCodec.encodeState(tenant), TenantState.class)).isEqualTo(tenant);
        TenantState golden = EventCodec.decodeState(Examples.stateBytes("tenant-state"), TenantState.class);
        assertThat(golden.billingModes()).isNull();
        assertThat(golden.credits()).isNull();

        ObjectNode quota = Examples.tree(Examples.stateBytes("quota-state"));
        quota.put("window", "CREDIT").put("windowStart", "1970-01-01T00:00:00Z").put("windowEnd", "9999-12-31T23:59:59Z")
                .put("unfundedMicros", 12).remove("spendLimitMicros");
        quota.putObject("grantsUsedMicros").put("cg_1", 400_000);
        assertThat(SchemaCatalog.validate("state/quota-state.schema.json", quota)).isEmpty();
        QuotaState credit = EventCodec.decodeState(Examples.bytes(quota), QuotaState.class);
        assertThat(credit.window()).isEqualTo(QuotaState.Window.CREDIT);
        assertThat(credit.grantsUsedMicros()).containsEntry("cg_1", 400_000L);
        assertThat(credit.unfundedMicros()).isEqualTo(12);
        assertThat(EventCodec.decodeState(EventCodec.encodeState(credit), QuotaState.class)).isEqualTo(credit);
        assertThat(EventCodec.decodeState(Examples.stateBytes("quota-state"), QuotaState.class).grantsUsedMicros()).isNull();
    }
}
