package dev.tollgate.billing.credit;

import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.state.BillingModePeriod;
import dev.tollgate.schemas.state.CreditGrant;
import dev.tollgate.schemas.state.TenantState;
import dev.tollgate.schemas.usage.Endpoint;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CreditBurnTest {
    private static final Instant T0 = Instant.parse("2026-11-30T23:59:59.999Z");
    private static final Instant T1 = Instant.parse("2026-12-01T00:00:00Z");

    private static CreditGrant grant(String id, long micros, Instant grantedAt, Instant expiresAt, int priority, String... models) {
        return new CreditGrant(id, micros, CreditSource.PURCHASE, grantedAt, expiresAt, null, priority, List.of(models));
    }

    private static BigDecimal micros(String amount) {
        return new BigDecimal(amount);
    }

    @Test
    void grantsBurnEarliestExpiryFirstThenLowestPriorityThenOldest() {
        var noExpiry = grant("a-no-expiry", 100, T0.minusSeconds(100), null, 0);
        var laterExpiry = grant("b-later", 100, T0.minusSeconds(90), T1.plusSeconds(100), 50);
        var soonLowPriority = grant("c-soon-p10", 100, T0.minusSeconds(80), T1.plusSeconds(10), 10);
        var soonHighPriority = grant("d-soon-p90", 100, T0.minusSeconds(70), T1.plusSeconds(10), 90);
        var soonP10Newer = grant("e-soon-p10-newer", 100, T0.minusSeconds(60), T1.plusSeconds(10), 10);
        var grants = List.of(noExpiry, laterExpiry, soonLowPriority, soonHighPriority, soonP10Newer);

        CreditBurn burn = CreditBurn.NONE.apply(grants, BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("250")).burn();

        assertThat(burn.usedMicros()).containsExactlyInAnyOrderEntriesOf(Map.of("c-soon-p10", 100L, "e-soon-p10-newer", 100L, "d-soon-p90", 50L));
        burn = burn.apply(grants, BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("200")).burn();
        assertThat(burn.usedMicros()).containsExactlyInAnyOrderEntriesOf(
                Map.of("c-soon-p10", 100L, "e-soon-p10-newer", 100L, "d-soon-p90", 100L, "b-later", 100L, "a-no-expiry", 50L));
        assertThat(burn.unfundedMicros()).isZero();
        assertThat(CreditBurn.remainingMicros(grants, burn.usedMicros(), burn.unfundedMicros(), "m", null, T0)).isEqualTo(50);
    }

    @Test
    void aGrantPaysOnlyFromItsTimeUntilItsExpiryOrVoidAndOnlyForItsModels() {
        var expiring = grant("exp", 1_000, T0.minusSeconds(10), T1, 50); // expires at the first instant of December
        var voided = new CreditGrant("void", 1_000, CreditSource.PROMOTION, T0.minusSeconds(10), null, T1, 50, List.of());
        var future = grant("future", 1_000, T1.plusSeconds(1), null, 50);
        var restricted = grant("llama", 1_000, T0.minusSeconds(10), null, 0, "llama");

        assertThat(CreditBurn.pays(expiring, "m", Endpoint.CHAT_COMPLETIONS, T0)).isTrue();
        assertThat(CreditBurn.pays(expiring, "m", Endpoint.CHAT_COMPLETIONS, T1)).isFalse();
        assertThat(CreditBurn.pays(voided, "m", Endpoint.CHAT_COMPLETIONS, T0)).isTrue();
        assertThat(CreditBurn.pays(voided, "m", Endpoint.CHAT_COMPLETIONS, T1)).isFalse();
        assertThat(CreditBurn.pays(future, "m", Endpoint.CHAT_COMPLETIONS, T1)).isFalse();
        assertThat(CreditBurn.pays(future, "m", Endpoint.CHAT_COMPLETIONS, T1.plusSeconds(1))).isTrue();
        assertThat(CreditBurn.pays(restricted, "llama", Endpoint.CHAT_COMPLETIONS, T0)).isTrue();
        assertThat(CreditBurn.pays(restricted, "gpt", Endpoint.CHAT_COMPLETIONS, T0)).isFalse();

        var grants = List.of(expiring, voided, future, restricted);
        CreditBurn atMidnight = CreditBurn.NONE.apply(grants, BillingMode.PREPAID, "gpt", Endpoint.CHAT_COMPLETIONS, T1, micros("10")).burn();
        assertThat(atMidnight.usedMicros()).isEmpty();
        assertThat(atMidnight.unfundedMicros()).isEqualTo(10);
        // Just before midnight the grant expiring then burns first; the llama-only one pays only for llama.
        CreditBurn justBefore = CreditBurn.NONE.apply(grants, BillingMode.PREPAID, "llama", Endpoint.CHAT_COMPLETIONS, T0, micros("1010")).burn();
        assertThat(justBefore.usedMicros()).containsExactlyInAnyOrderEntriesOf(Map.of("exp", 1_000L, "llama", 10L));
        CreditBurn gpt = justBefore.apply(grants, BillingMode.PREPAID, "gpt", Endpoint.CHAT_COMPLETIONS, T0, micros("1500")).burn();
        assertThat(gpt.usedMicros()).containsExactlyInAnyOrderEntriesOf(Map.of("exp", 1_000L, "llama", 10L, "void", 1_000L));
        assertThat(gpt.unfundedMicros()).isEqualTo(500);
    }

    @Test
    void aGrantForSomeEndpointsPaysOnlyForUsageThereAndTotalsCountIt() {
        var embeddingsOnly = new CreditGrant("emb", 1_000, CreditSource.PROMOTION, T0.minusSeconds(10), null, null, 0, List.of(),
                List.of(Endpoint.EMBEDDINGS));
        var any = grant("any", 500, T0.minusSeconds(10), null, 50);
        var grants = List.of(embeddingsOnly, any);

        assertThat(CreditBurn.pays(embeddingsOnly, "m", Endpoint.EMBEDDINGS, T0)).isTrue();
        assertThat(CreditBurn.pays(embeddingsOnly, "m", Endpoint.CHAT_COMPLETIONS, T0)).isFalse();
        assertThat(CreditBurn.pays(embeddingsOnly, "m", Endpoint.COMPLETIONS, T0)).isFalse();
        assertThat(CreditBurn.pays(embeddingsOnly, "m", null, T0)).isTrue(); // a total, or an older gateway's usage

        // Chat usage passes over the embeddings grant (priority 0) to the unrestricted one.
        CreditBurn chat = CreditBurn.NONE.apply(grants, BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("600")).burn();
        assertThat(chat.usedMicros()).containsExactly(Map.entry("any", 500L));
        assertThat(chat.unfundedMicros()).isEqualTo(100);
        assertThat(CreditBurn.remainingMicros(grants, chat.usedMicros(), chat.unfundedMicros(), "m", Endpoint.CHAT_COMPLETIONS, T0)).isZero();
        // Embeddings may still spend the embeddings grant less what is owed, which that grant pays first.
        assertThat(CreditBurn.remainingMicros(grants, chat.usedMicros(), chat.unfundedMicros(), "m", Endpoint.EMBEDDINGS, T0)).isEqualTo(900);
        CreditBurn emb = chat.apply(grants, BillingMode.PREPAID, "m", Endpoint.EMBEDDINGS, T0, micros("50")).burn();
        assertThat(emb.usedMicros()).containsExactlyInAnyOrderEntriesOf(Map.of("any", 500L, "emb", 150L));
        assertThat(emb.unfundedMicros()).isZero();
    }

    @Test
    void aReducedGrantPaysUpToItsNewAmountFromTheReductionOnAndUsageBeforeStillBurnsTheOldOne() {
        var grant = grant("g", 1_000, T0.minusSeconds(60), null, 50).reducedTo(400, T1);
        assertThat(grant.amountAt(T0)).isEqualTo(1_000);
        assertThat(grant.amountAt(T1)).isEqualTo(400);

        CreditBurn before = CreditBurn.NONE.apply(List.of(grant), BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("300")).burn();
        assertThat(CreditBurn.remainingMicros(List.of(grant), before.usedMicros(), 0, "m", null, T0)).isEqualTo(700);
        assertThat(CreditBurn.remainingMicros(List.of(grant), before.usedMicros(), 0, "m", null, T1)).isEqualTo(100);
        CreditBurn after = before.apply(List.of(grant), BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T1, micros("250")).burn();
        assertThat(after.usedMicros()).containsExactly(Map.entry("g", 400L));
        assertThat(after.unfundedMicros()).isEqualTo(150);
        // A late event from before the reduction burns the old amount (the 150 owed first): past the new one, nothing is left.
        CreditBurn late = after.apply(List.of(grant), BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("500")).burn();
        assertThat(late.usedMicros()).containsExactly(Map.entry("g", 1_000L));
        assertThat(late.unfundedMicros()).isEqualTo(50);
        assertThat(CreditBurn.remainingMicros(List.of(grant), late.usedMicros(), late.unfundedMicros(), "m", null, T1)).isZero();

        var statement = CreditStatement.of("acme", "USD", BillingMode.PREPAID, List.of(grant), before, T1);
        assertThat(statement.grants().getFirst().withdrawnMicros()).isEqualTo(600);
        assertThat(statement.grants().getFirst().remainingMicros()).isEqualTo(100);
        assertThat(statement.remainingMicros()).isEqualTo(100);
    }

    @Test
    void prepaidUsageBeyondTheGrantsIsUnfundedAndTheNextGrantPaysItFirst() {
        var first = grant("first", 1_000_000, T0.minusSeconds(60), null, 50);
        CreditBurn burn = CreditBurn.NONE.apply(List.of(first), BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("1000250.5")).burn();
        assertThat(burn.usedMicros()).containsExactly(Map.entry("first", 1_000_000L));
        assertThat(burn.unfundedMicros()).isEqualTo(251); // rounded up: a balance never shows more than is left
        assertThat(burn.consumedMicros()).isEqualTo(1_000_250); // rounded down
        assertThat(CreditBurn.remainingMicros(List.of(first), burn.usedMicros(), burn.unfundedMicros(), "m", null, T0)).isZero();

        var topUp = grant("top-up", 5_000_000, T1, null, 50);
        var grants = List.of(first, topUp);
        assertThat(CreditBurn.remainingMicros(grants, burn.usedMicros(), burn.unfundedMicros(), "m", null, T1)).isEqualTo(4_999_749);
        CreditBurn after = burn.apply(grants, BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T1, micros("0.5")).burn();
        assertThat(after.unfunded()).isEqualByComparingTo("0");
        assertThat(after.used().get("top-up")).isEqualByComparingTo("251");
        assertThat(after.usedMicros()).containsEntry("top-up", 251L);
    }

    @Test
    void hybridUsageBeyondTheGrantsGoesToTheInvoiceAndPostpaidBurnsNothing() {
        var grant = grant("g", 100, T0.minusSeconds(1), null, 50);
        CreditBurn.Applied hybrid = CreditBurn.NONE.apply(List.of(grant), BillingMode.HYBRID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("130.25"));
        assertThat(hybrid.burn().usedMicros()).containsExactly(Map.entry("g", 100L));
        assertThat(hybrid.burn().unfunded()).isEqualByComparingTo("0");
        assertThat(hybrid.invoicedMicros()).isEqualByComparingTo("30.25");
        assertThat(hybrid.credit().mode()).isEqualTo(BillingMode.HYBRID);
        assertThat(hybrid.credit().grants()).containsOnlyKeys("g");
        assertThat(hybrid.credit().grants().get("g")).isEqualByComparingTo("100");
        assertThat(hybrid.credit().unfunded()).isEqualByComparingTo("0");

        CreditBurn.Applied postpaid = CreditBurn.NONE.apply(List.of(grant), BillingMode.POSTPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("130.25"));
        assertThat(postpaid.burn()).isSameAs(CreditBurn.NONE);
        assertThat(postpaid.invoicedMicros()).isEqualByComparingTo("130.25");
        assertThat(postpaid.credit()).isNull();
    }

    @Test
    void whatAnEventsCostTookFromEachGrantExcludesTheEarlierUnfundedUsageTheGrantsPaidFirst() {
        var first = grant("first", 100, T0.minusSeconds(10), null, 50);
        CreditBurn.Applied overshoot = CreditBurn.NONE.apply(List.of(first), BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("130.5"));
        assertThat(overshoot.credit().grants().get("first")).isEqualByComparingTo("100");
        assertThat(overshoot.credit().unfunded()).isEqualByComparingTo("30.5");
        assertThat(overshoot.credit().coveredMicros()).isEqualByComparingTo("130.5");

        var topUp = grant("top-up", 1_000, T0.minusSeconds(1), null, 50);
        CreditBurn.Applied next = overshoot.burn().apply(List.of(first, topUp), BillingMode.PREPAID, "m", Endpoint.CHAT_COMPLETIONS, T0, micros("20"));
        assertThat(next.burn().used().get("top-up")).isEqualByComparingTo("50.5"); // the 30.5 owed, then this event's 20
        assertThat(next.credit().grants()).containsOnlyKeys("top-up");
        assertThat(next.credit().grants().get("top-up")).isEqualByComparingTo("20");
        assertThat(next.credit().unfunded()).isEqualByComparingTo("0");
    }

    @Test
    void theModeInForceIsTheLastOneEffectiveAtTheTime() {
        var tenant = new TenantState("acme", "Acme", TenantState.Status.ACTIVE, "pro", "Pacific/Kiritimati", "USD", null, null, null, 1, T0,
                null, true, List.of(new BillingModePeriod(BillingMode.PREPAID, T0), new BillingModePeriod(BillingMode.HYBRID, T1)), null);

        assertThat(CreditBurn.modeAt(tenant, T0.minusMillis(1))).isEqualTo(BillingMode.POSTPAID);
        assertThat(CreditBurn.modeAt(tenant, T0)).isEqualTo(BillingMode.PREPAID);
        assertThat(CreditBurn.modeAt(tenant, T1)).isEqualTo(BillingMode.HYBRID);
        assertThat(CreditBurn.modeAt((TenantState) null, T1)).isEqualTo(BillingMode.POSTPAID);
        assertThat(CreditBurn.modeAt(List.of(), T1)).isEqualTo(BillingMode.POSTPAID);
    }
}
