package dev.tollgate.ledger.tenant;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.ledger.tenant.TenantCommands.AssignPlan;
import dev.tollgate.ledger.tenant.TenantCommands.CreateTenant;
import dev.tollgate.ledger.tenant.TenantCommands.ExpireKey;
import dev.tollgate.ledger.tenant.TenantCommands.IssueKey;
import dev.tollgate.ledger.tenant.TenantCommands.ReinstateTenant;
import dev.tollgate.ledger.tenant.TenantCommands.RevokeKey;
import dev.tollgate.ledger.tenant.TenantCommands.RotateKey;
import dev.tollgate.ledger.tenant.TenantCommands.SetLimits;
import dev.tollgate.ledger.tenant.TenantCommands.SuspendTenant;
import dev.tollgate.ledger.tenant.TenantCommands.GrantCredit;
import dev.tollgate.ledger.tenant.TenantCommands.ClearBillingMode;
import dev.tollgate.ledger.tenant.TenantCommands.SetBillingMode;
import dev.tollgate.ledger.tenant.TenantCommands.RefundPayment;
import dev.tollgate.ledger.tenant.TenantCommands.VoidCredit;
import dev.tollgate.schemas.credit.BillingMode;
import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.KeyExpired;
import dev.tollgate.schemas.ledger.KeyIssued;
import dev.tollgate.schemas.ledger.KeyRevoked;
import dev.tollgate.schemas.ledger.KeyRotated;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.ledger.LimitsSet;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.SecretHash;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.ledger.TenantReinstated;
import dev.tollgate.schemas.ledger.TenantSuspended;
import dev.tollgate.schemas.ledger.WebhookConfigured;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Every invariant of the Tenant aggregate and its keys, one behaviour per test. */
class TenantAggregateTest {
    private static final String KEY = "AAAAAAAAAAAAAAAA";
    private static final SecretHash HASH = ApiKeys.issue(KEY).hash();
    private static final SecretHash NEW_HASH = ApiKeys.issue(KEY).hash();
    private static final TenantCreated CREATED = new TenantCreated("acme", "Acme", "UTC", "USD");

    private AggregateTestFixture<Tenant> fixture;
    private InMemoryClaims claims;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Tenant.class);
        claims = new InMemoryClaims();
        fixture.registerInjectableResource(claims);
        fixture.registerInjectableResource((PlanDirectory) Set.of("pro")::contains);
    }

    private IssueKey issue(Instant expiresAt) {
        return new IssueKey("acme", KEY, "ci", HASH, List.of("inference"), List.of("m"), null, expiresAt);
    }

    private KeyIssued issued(Instant expiresAt) {
        return new KeyIssued(KEY, "acme", "ci", HASH, List.of("inference"), List.of("m"), null, expiresAt);
    }

    @Test
    void creatingATenantRecordsItsZoneAndCurrency() {
        fixture.givenNoPriorActivity()
                .when(new CreateTenant("acme", "Acme", "UTC", "usd"))
                .expectEvents(CREATED);
    }

    @Test
    void aTenantNameIsUniqueIgnoringCase() {
        claims.claim("tenant-name", "acme", "someone-else");

        fixture.givenNoPriorActivity()
                .when(new CreateTenant("acme", "ACME", "UTC", "USD"))
                .expectException(LedgerException.Conflict.class);
    }

    @Test
    void reservedOrMalformedTenantIdsAreRefused() {
        fixture.givenNoPriorActivity().when(new CreateTenant("_platform", "P", "UTC", "USD"))
                .expectException(LedgerException.Invalid.class);
        fixture.givenNoPriorActivity().when(new CreateTenant("Acme Corp", "P", "UTC", "USD"))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void anUnknownTimeZoneOrCurrencyIsRefused() {
        fixture.givenNoPriorActivity().when(new CreateTenant("acme", "Acme", "Mars/Olympus", "USD"))
                .expectException(LedgerException.Invalid.class);
        fixture.givenNoPriorActivity().when(new CreateTenant("acme", "Acme", "UTC", "XYZ"))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void suspendingAndReinstating() {
        fixture.given(CREATED).when(new SuspendTenant("acme", "unpaid"))
                .expectEvents(new TenantSuspended("acme", "unpaid"));
        fixture.given(CREATED, new TenantSuspended("acme", "unpaid")).when(new ReinstateTenant("acme"))
                .expectEvents(new TenantReinstated("acme"));
    }

    @Test
    void suspendingASuspendedTenantIsAConflict() {
        fixture.given(CREATED, new TenantSuspended("acme", "unpaid")).when(new SuspendTenant("acme", "again"))
                .expectException(LedgerException.Conflict.class);
    }

    @Test
    void reinstatingAnActiveTenantIsAConflict() {
        fixture.given(CREATED).when(new ReinstateTenant("acme")).expectException(LedgerException.Conflict.class);
    }

    @Test
    void assigningAnExistingPlan() {
        Instant from = Instant.parse("2026-12-01T00:00:00Z");
        fixture.given(CREATED).when(new AssignPlan("acme", "pro", from))
                .expectEvents(new PlanAssigned("acme", "pro", from));
    }

    @Test
    void assigningAnUnknownPlanIsRefused() {
        fixture.given(CREATED).when(new AssignPlan("acme", "gold", null)).expectException(LedgerException.Invalid.class);
    }

    @Test
    void settingTenantLimits() {
        var limits = new Limits(60L, 100_000L, null, 5_000_000L, Limits.SpendLimitMode.SOFT, 8L);
        fixture.given(CREATED).when(new SetLimits("acme", null, limits)).expectEvents(new LimitsSet("acme", null, limits));
    }

    @Test
    void settingATenantsSchedulingClassAndWeight() {
        var limits = new Limits(null, null, null, null, null, null, "interactive", 3);
        fixture.given(CREATED).when(new SetLimits("acme", null, limits)).expectEvents(new LimitsSet("acme", null, limits));
    }

    @Test
    void aKeyMayMoveItsRequestsToAClassButNotWidenItsTenantsShare() {
        var moved = new Limits(null, null, null, null, null, null, "batch", null);
        fixture.given(CREATED, issued(null)).when(new SetLimits("acme", KEY, moved)).expectEvents(new LimitsSet("acme", KEY, moved));
        fixture.given(CREATED, issued(null)).when(new SetLimits("acme", KEY, new Limits(null, null, null, null, null, null, null, 5)))
                .expectException(LedgerException.Invalid.class)
                .expectExceptionMessage("queueWeight is set on a tenant or its plan, not on a key");
    }

    @Test
    void settingLimitsOfAnUnknownKeyIsNotFound() {
        fixture.given(CREATED).when(new SetLimits("acme", KEY, Limits.NONE)).expectException(LedgerException.NotFound.class);
    }

    @Test
    void issuingAKeyStoresOnlyItsHash() {
        fixture.given(CREATED).when(issue(null)).expectEvents(issued(null));
    }

    @Test
    void aKeyWithAnUnknownScopeIsRefusedAndItsIdStaysFree() {
        fixture.given(CREATED).when(new IssueKey("acme", KEY, "ci", HASH, List.of("embeddings", "admin"), List.of(), null, null))
                .expectException(LedgerException.Invalid.class)
                .expectExceptionMessage("unknown scopes [admin]; a key's scopes are [audio.transcriptions, audio.translations, chat.completions, completions, embeddings, inference, messages, models.read, rerank, responses, score]");
        assertThat(claims.isClaimed(Tenant.KEY_SCOPE, KEY)).isFalse();
    }

    @Test
    void noKeyForASuspendedTenant() {
        fixture.given(CREATED, new TenantSuspended("acme", "unpaid")).when(issue(null))
                .expectException(LedgerException.Conflict.class)
                .expectExceptionMessage("tenant acme is suspended: no new keys");
    }

    @Test
    void aKeyCannotExpireInThePast() {
        fixture.given(CREATED).when(issue(Instant.parse("2000-01-01T00:00:00Z")))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void issuingTheSameKeyIdTwiceIsAConflict() {
        fixture.given(CREATED, issued(null)).when(issue(null)).expectException(LedgerException.Conflict.class);
    }

    @Test
    void rotatingGivesTheOldSecretAGracePeriod() {
        fixture.given(CREATED, issued(null))
                .when(new RotateKey("acme", KEY, NEW_HASH, Duration.ofHours(1)))
                .expectEvents(new KeyRotated(KEY, "acme", NEW_HASH, fixture.currentTime().plus(Duration.ofHours(1))));
    }

    @Test
    void rotatingARevokedKeyIsRejected() {
        fixture.given(CREATED, issued(null), new KeyRevoked(KEY, "acme", "leaked"))
                .when(new RotateKey("acme", KEY, NEW_HASH, Duration.ZERO))
                .expectException(LedgerException.Conflict.class);
    }

    @Test
    void aGracePeriodBeyondThirtyDaysIsRefused() {
        fixture.given(CREATED, issued(null))
                .when(new RotateKey("acme", KEY, NEW_HASH, Duration.ofDays(31)))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void rotatingAnUnknownKeyIsNotFound() {
        fixture.given(CREATED).when(new RotateKey("acme", KEY, NEW_HASH, Duration.ZERO))
                .expectException(LedgerException.NotFound.class);
    }

    @Test
    void revokingIsImmediate() {
        fixture.given(CREATED, issued(null)).when(new RevokeKey("acme", KEY, "leaked"))
                .expectEvents(new KeyRevoked(KEY, "acme", "leaked"));
    }

    @Test
    void revokingARevokedKeyIsAConflict() {
        fixture.given(CREATED, issued(null), new KeyRevoked(KEY, "acme", "leaked"))
                .when(new RevokeKey("acme", KEY, "again")).expectException(LedgerException.Conflict.class);
    }

    @Test
    void anOverdueKeyExpiresOnce() {
        Instant soon = fixture.currentTime().plusSeconds(60);
        fixture.given(CREATED, issued(soon))
                .andGivenCurrentTime(soon.plusSeconds(1))
                .when(new ExpireKey("acme", KEY))
                .expectEvents(new KeyExpired(KEY, "acme"));
        fixture.given(CREATED, issued(soon), new KeyExpired(KEY, "acme"))
                .andGivenCurrentTime(soon.plusSeconds(1))
                .when(new ExpireKey("acme", KEY))
                .expectNoEvents();
    }

    @Test
    void everyWebhookConfigurationRotatesTheSecretVersion() {
        fixture.given(CREATED).when(new TenantCommands.ConfigureWebhook("acme", "https://hooks.acme.example/t"))
                .expectEvents(new WebhookConfigured("acme", "https://hooks.acme.example/t", 1)).expectResultMessagePayload(1);
        fixture.given(CREATED, new WebhookConfigured("acme", "https://a.example/", 1))
                .when(new TenantCommands.ConfigureWebhook("acme", "https://b.example/"))
                .expectEvents(new WebhookConfigured("acme", "https://b.example/", 2));
    }

    @Test
    void aWebhookMustBeHttpsWithoutCredentials() {
        for (String url : List.of("http://hooks.example/", "ftp://x/", "https://user:pw@hooks.example/", "not a url", "https:///path")) {
            fixture.given(CREATED).when(new TenantCommands.ConfigureWebhook("acme", url))
                    .expectException(LedgerException.Invalid.class);
        }
        fixture.given(CREATED).when(new TenantCommands.ConfigureWebhook("acme", "http://127.0.0.1:9000/hook"))
                .expectSuccessfulHandlerExecution();
    }

    @Test
    void aKeyIsNotExpiredBeforeItsTime() {
        fixture.given(CREATED, issued(fixture.currentTime().plusSeconds(3600)))
                .when(new ExpireKey("acme", KEY))
                .expectNoEvents();
    }

    private static final String GRANT = "cg_0123456789abcdef0123456789abcdef";

    private CreditGranted granted(String grantId, String externalId) {
        return new CreditGranted("acme", grantId, 5_000_000, CreditSource.PURCHASE, null, fixture.currentTime().truncatedTo(
                ChronoUnit.MILLIS), null, 50, List.of(), externalId);
    }

    @Test
    void aGrantRecordsItsAmountSourceTimeAndDefaultPriority() {
        fixture.given(CREATED)
                .when(new GrantCredit("acme", GRANT, 5_000_000, CreditSource.PURCHASE, null, null, null, null, null, "cs_1"))
                .expectEvents(granted(GRANT, "cs_1"))
                .expectResultMessagePayload(GRANT);
    }

    @Test
    void aGrantTakesTheImmutableEmptyListsThePaymentPathSends() {
        fixture.given(CREATED)
                .when(new GrantCredit("acme", GRANT, 5_000_000, CreditSource.PURCHASE, null, null, null, List.of(), List.of(), "cs_1"))
                .expectEvents(granted(GRANT, "cs_1"))
                .expectResultMessagePayload(GRANT);
    }

    @Test
    void thePaymentOfAGrantGrantsOnceEvenWhenConfirmedAgain() {
        fixture.given(CREATED, granted(GRANT, "cs_1"))
                .when(new GrantCredit("acme", "cg_ffffffffffffffffffffffffffffffff", 5_000_000, CreditSource.PURCHASE, null, null, null, null, null,
                        "cs_1"))
                .expectNoEvents()
                .expectResultMessagePayload(GRANT);
    }

    @Test
    void grantsRefuseNonPositiveOrHugeAmountsBadPrioritiesPastExpiriesAndAdjustmentsWithoutAReason() {
        fixture.given(CREATED).when(new GrantCredit("acme", GRANT, 0, CreditSource.PROMOTION, null, null, null, null, null, null))
                .expectException(LedgerException.Invalid.class);
        fixture.given(CREATED).when(new GrantCredit("acme", GRANT, Tenant.MAX_GRANT_MICROS + 1, CreditSource.PROMOTION, null, null, null, null, null,
                        null))
                .expectException(LedgerException.Invalid.class);
        fixture.given(CREATED).when(new GrantCredit("acme", GRANT, 10, CreditSource.PROMOTION, null, null, 101, null, null, null))
                .expectException(LedgerException.Invalid.class);
        fixture.given(CREATED).when(new GrantCredit("acme", GRANT, 10, CreditSource.PROMOTION, null, fixture.currentTime(), null, null, null, null))
                .expectException(LedgerException.Invalid.class);
        fixture.given(CREATED).when(new GrantCredit("acme", GRANT, 10, CreditSource.ADJUSTMENT, " ", null, null, null, null, null))
                .expectException(LedgerException.Invalid.class).expectExceptionMessage("a manual adjustment needs a reason");
        fixture.given(CREATED).when(new GrantCredit("acme", "not-a-grant-id", 10, CreditSource.PROMOTION, null, null, null, null, null, null))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void aGrantIsVoidedOnceAndAnUnknownOneIsNotFound() {
        fixture.given(CREATED, granted(GRANT, null))
                .when(new VoidCredit("acme", GRANT, "refunded"))
                .expectEvents(new CreditVoided("acme", GRANT, "refunded", fixture.currentTime().truncatedTo(ChronoUnit.MILLIS)));
        fixture.given(CREATED, granted(GRANT, null), new CreditVoided("acme", GRANT, "refunded", fixture.currentTime()))
                .when(new VoidCredit("acme", GRANT, "again"))
                .expectException(LedgerException.Conflict.class);
        fixture.given(CREATED)
                .when(new VoidCredit("acme", GRANT, "refunded"))
                .expectException(LedgerException.NotFound.class);
    }

    @Test
    void aRefundedPaymentVoidsItsGrantOnceAndAPaymentNeverGrantedIsNotFound() {
        fixture.given(CREATED, granted(GRANT, "cs_1"))
                .when(new RefundPayment("acme", "cs_1", 5_000_000, 5_000_000, "payment cs_1 refunded"))
                .expectEvents(new CreditVoided("acme", GRANT, "payment cs_1 refunded", fixture.currentTime().truncatedTo(ChronoUnit.MILLIS)))
                .expectResultMessagePayload(GRANT);
        fixture.given(CREATED, granted(GRANT, "cs_1"), new CreditVoided("acme", GRANT, "voided by hand", fixture.currentTime()))
                .when(new RefundPayment("acme", "cs_1", 5_000_000, 5_000_000, "payment cs_1 refunded"))
                .expectNoEvents()
                .expectResultMessagePayload(null);
        fixture.given(CREATED, granted(GRANT, "cs_1"))
                .when(new RefundPayment("acme", "cs_2", 5_000_000, 5_000_000, "payment cs_2 refunded"))
                .expectException(LedgerException.NotFound.class);
    }

    @Test
    void aPartialRefundLowersTheGrantInProportionOnceAndTheRestOfItVoidsIt() {
        Instant now = fixture.currentTime().truncatedTo(ChronoUnit.MILLIS);
        // 5.00 granted for a payment of 10.00 (a bonus grant would differ from the payment): 3.00 of 10.00 refunded leaves 3.50.
        fixture.given(CREATED, granted(GRANT, "cs_1"))
                .when(new RefundPayment("acme", "cs_1", 3_000_000, 10_000_000, "refunded in part"))
                .expectEvents(new CreditReduced("acme", GRANT, 3_500_000, "refunded in part", now))
                .expectResultMessagePayload(GRANT);
        // The same refund again, or an older one arriving late: nothing.
        fixture.given(CREATED, granted(GRANT, "cs_1"), new CreditReduced("acme", GRANT, 3_500_000, "refunded in part", now))
                .when(new RefundPayment("acme", "cs_1", 1_000_000, 10_000_000, "refunded in part"))
                .expectNoEvents()
                .expectResultMessagePayload(null);
        // More refunded: lowered again, in proportion to what was granted (6.00 of 10.00: 2.00 left).
        fixture.given(CREATED, granted(GRANT, "cs_1"), new CreditReduced("acme", GRANT, 3_500_000, "refunded in part", now))
                .when(new RefundPayment("acme", "cs_1", 6_000_000, 10_000_000, "refunded in part"))
                .expectEvents(new CreditReduced("acme", GRANT, 2_000_000, "refunded in part", now));
        // Less than a micro-unit would be left: the grant is voided.
        fixture.given(CREATED, granted(GRANT, "cs_1"), new CreditReduced("acme", GRANT, 3_500_000, "refunded in part", now))
                .when(new RefundPayment("acme", "cs_1", 9_999_999, 10_000_000, "refunded in part"))
                .expectEvents(new CreditVoided("acme", GRANT, "refunded in part", now));
        fixture.given(CREATED, granted(GRANT, "cs_1"))
                .when(new RefundPayment("acme", "cs_1", 11_000_000, 10_000_000, "more than paid"))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void aBillingModeTakesEffectNowOrLaterButNeverInThePast() {
        Instant now = fixture.currentTime().truncatedTo(ChronoUnit.MILLIS);
        fixture.given(CREATED)
                .when(new SetBillingMode("acme", BillingMode.PREPAID, null))
                .expectEvents(new BillingModeSet("acme", BillingMode.PREPAID, now))
                .expectResultMessagePayload(now);
        fixture.given(CREATED)
                .when(new SetBillingMode("acme", BillingMode.HYBRID, now.minusSeconds(1)))
                .expectException(LedgerException.Invalid.class);
        fixture.given(CREATED)
                .when(new SetBillingMode("acme", null, null))
                .expectException(LedgerException.Invalid.class);
    }

    @Test
    void aTenantFollowsItsPlansModeAgainFromNowOrLaterButNeverFromThePast() {
        Instant now = fixture.currentTime().truncatedTo(ChronoUnit.MILLIS);
        fixture.given(CREATED, new BillingModeSet("acme", BillingMode.PREPAID, now))
                .when(new ClearBillingMode("acme", null))
                .expectEvents(new BillingModeCleared("acme", now))
                .expectResultMessagePayload(now);
        fixture.given(CREATED)
                .when(new ClearBillingMode("acme", now.plusSeconds(3_600)))
                .expectEvents(new BillingModeCleared("acme", now.plusSeconds(3_600)));
        fixture.given(CREATED)
                .when(new ClearBillingMode("acme", now.minusMillis(1)))
                .expectException(LedgerException.Invalid.class);
    }
}
