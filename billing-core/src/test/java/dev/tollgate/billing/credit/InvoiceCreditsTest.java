package dev.tollgate.billing.credit;

import dev.tollgate.schemas.credit.BillingMode;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InvoiceCreditsTest {
    private static BigDecimal d(String value) {
        return new BigDecimal(value);
    }

    private static CreditApplied prepaid(Map<String, BigDecimal> grants, String unfunded) {
        return new CreditApplied(BillingMode.PREPAID, grants, d(unfunded));
    }

    @Test
    void aPostpaidInvoiceIsDueInFull() {
        var credits = new InvoiceCredits();
        credits.add("e1", d("10.4"), null);
        credits.add("e2", d("10.4"), null);
        InvoiceCredits.Summary summary = credits.summary(21); // lines rounded one by one may exceed the exact 20.8
        assertThat(summary.credits()).isEmpty();
        assertThat(summary.creditedMicros()).isZero();
        assertThat(summary.amountDueMicros()).isEqualTo(21);
    }

    @Test
    void aPrepaidInvoiceOwesNothingWhateverTheLinesRounding() {
        var credits = new InvoiceCredits();
        credits.add("e1", d("10.5"), prepaid(Map.of("g-a", d("10.5")), "0"));
        credits.add("e2", d("10.5"), prepaid(Map.of("g-a", d("4.5"), "g-b", d("6")), "0"));
        credits.add("e3", d("3.25"), prepaid(Map.of(), "3.25"));
        credits.add("e3", d("3.25"), prepaid(Map.of(), "3.25")); // the same event again counts once

        InvoiceCredits.Summary summary = credits.summary(25); // exact 24.25, lines rounded up to 25
        assertThat(summary.amountDueMicros()).isZero();
        assertThat(summary.creditedMicros()).isEqualTo(25);
        // 25 split as 15 : 6 : 3.25 -> 15.46, 6.18, 3.35: floors 15, 6, 3 and the one left to the largest remainder (15.46)
        assertThat(summary.credits()).containsExactly(new InvoiceCredits.Credit("g-a", 16), new InvoiceCredits.Credit("g-b", 6),
                new InvoiceCredits.Credit(null, 3));
        assertThat(summary.credits().getLast().unfunded()).isTrue();
    }

    @Test
    void aHybridInvoiceIsDueForTheUncoveredCostRoundedOnceAndTheCreditsAreTheRestOfTheTotal() {
        var credits = new InvoiceCredits();
        credits.add("e1", d("100.4"), new CreditApplied(BillingMode.HYBRID, Map.of("g", d("60")), BigDecimal.ZERO));
        credits.add("e2", d("0.3"), null); // billed before the mode took effect: uncovered
        InvoiceCredits.Summary summary = credits.summary(101); // exact 100.7
        assertThat(summary.amountDueMicros()).isEqualTo(41); // 40.7 rounded half-even
        assertThat(summary.creditedMicros()).isEqualTo(60);
        assertThat(summary.credits()).containsExactly(new InvoiceCredits.Credit("g", 60));
    }

    @Test
    void theAmountDueNeverExceedsTheTotal() {
        var credits = new InvoiceCredits();
        credits.add("e1", d("2.6"), new CreditApplied(BillingMode.HYBRID, Map.of("g", d("0.1")), BigDecimal.ZERO));
        InvoiceCredits.Summary summary = credits.summary(2); // a line rounded down: 2.5 uncovered would round to 2, fine; 2.6 - 0.1
        assertThat(summary.amountDueMicros()).isEqualTo(2);
        assertThat(summary.creditedMicros()).isZero();
        assertThat(summary.credits()).isEmpty();
    }

    @Test
    void aRepricedEventKeepsWhatCreditCoveredAndIsNeverDueBelowZero() {
        var credits = new InvoiceCredits();
        credits.add("e1", d("5"), prepaid(Map.of("g", d("8")), "0")); // priced 8 when burned, 5 after a backfill
        InvoiceCredits.Summary summary = credits.summary(5);
        assertThat(summary.amountDueMicros()).isZero();
        assertThat(summary.credits()).containsExactly(new InvoiceCredits.Credit("g", 5));
    }

    @Test
    void apportioningAddsUpExactlyAndBreaksTiesToTheEarlierPart() {
        assertThat(InvoiceCredits.apportion(List.of(d("1"), d("1"), d("1")), 2)).containsExactly(1, 1, 0);
        assertThat(InvoiceCredits.apportion(List.of(d("0.000001"), d("999999.999999")), 1_000_000)).containsExactly(0, 1_000_000);
        assertThat(InvoiceCredits.apportion(List.of(d("3"), d("0")), 7)).containsExactly(7, 0);
        assertThat(InvoiceCredits.apportion(List.of(d("0")), 0)).containsExactly(0);
        assertThatThrownBy(() -> InvoiceCredits.apportion(List.of(d("0")), 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InvoiceCredits.apportion(List.of(d("1")), -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void stripeCreditItemsBringTheLinesRoundedToCentsDownToTheAmountDueInCents() {
        var lines = List.of(new InvoiceCredits.Credit("g-a", 1_504_000), new InvoiceCredits.Credit("g-b", 498_000));
        // Lines 3.005 + 1.004 USD -> 301 + 100 cents; due 2.007 USD -> 201 cents: 200 cents of credit items, split 150 : 50
        assertThat(InvoiceCredits.minorUnits(lines, 401, 201)).containsExactly(150, 50);
        assertThat(InvoiceCredits.minorUnits(lines, 401, 401)).containsExactly(0, 0);
        assertThat(InvoiceCredits.minorUnits(lines, 400, 401)).containsExactly(0, 0);
        assertThat(InvoiceCredits.minorUnits(List.of(), 400, 0)).isEmpty();
    }
}
