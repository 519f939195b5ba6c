package dev.tollgate.projector.invoice;

import dev.tollgate.billing.BillableUsage;
import dev.tollgate.billing.PriceSchedule;
import dev.tollgate.billing.UsageCounts;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code usage.billed.v1} records of ADR 0030: the new units and rates travel, and records written before decode as they were. */
class BillingRecordTest {
    private static final Instant T = Instant.parse("2026-12-01T00:00:00Z");

    @Test
    void aRecordWrittenBeforeTheNewUnitsDecodesWithNone() {
        String old = "{\"type\":\"billed\",\"eventId\":\"e1\",\"tenantId\":\"acme\",\"keyId\":\"k\",\"model\":\"m\",\"time\":\"2026-12-01T00:00:00Z\","
                + "\"uncachedPrompt\":10,\"cachedPrompt\":2,\"completion\":5,\"period\":\"2026-12\",\"currency\":\"USD\",\"price\":{"
                + "\"priceListId\":\"pl\",\"effectiveFrom\":\"2026-11-01T00:00:00Z\",\"inputMicros\":1,\"cachedInputMicros\":2,\"outputMicros\":3}}";

        var billed = (BillingRecord.Billed) BillingRecord.decode(old.getBytes(StandardCharsets.UTF_8));

        assertThat(billed.units()).isNull();
        assertThat(billed.usage().counts()).isEqualTo(UsageCounts.tokens(10, 2, 5));
        assertThat(billed.price().rates()).isEqualTo(new PriceSchedule.ModelRates(1, 2, 3));
        assertThat(new String(BillingRecord.encode(billed), StandardCharsets.UTF_8)).doesNotContain("units").doesNotContain("reasoningMicros");
    }

    @Test
    void everyUnitAndRateTravels() {
        var counts = new UsageCounts(100, 20, 30, 50, 40, 7, 3, 1);
        var rates = new PriceSchedule.ModelRates(1, 2, 3, 4L, 5L, 6L, 7L, 8L);
        var list = new PriceSchedule.PriceList("pl", T, Map.of("m", rates));
        var billed = BillingRecord.Billed.of(new BillableUsage("e1", "acme", "k", "m", T, counts, null), "2026-12", null, "USD",
                BillingRecord.AppliedPrice.of(list, rates), null);

        var decoded = (BillingRecord.Billed) BillingRecord.decode(BillingRecord.encode(billed));

        assertThat(decoded).isEqualTo(billed);
        assertThat(decoded.usage().counts()).isEqualTo(counts);
        assertThat(decoded.price().rates()).isEqualTo(rates);
    }
}
