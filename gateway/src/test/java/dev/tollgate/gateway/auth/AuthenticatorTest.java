package dev.tollgate.gateway.auth;

import dev.tollgate.gateway.state.KeyLookup;
import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.Limits;
import dev.tollgate.schemas.state.KeyState;
import dev.tollgate.schemas.state.TenantState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AuthenticatorTest {
    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
    private static final String KEY_ID = "AAAAAAAAAAAAAAAA";

    private final Map<String, KeyState> keys = new HashMap<>();
    private final Map<String, TenantState> tenants = new HashMap<>();
    private final Authenticator authenticator = new Authenticator(KeyLookup.of(keys, tenants));

    private ApiKeys.NewKey current = ApiKeys.issue(KEY_ID);

    private void state(KeyState.Status status, Instant expiresAt, List<KeyState.Secret> secrets, TenantState.Status tenant) {
        keys.put(KEY_ID, new KeyState(KEY_ID, "acme", "k", status, secrets, List.of(), List.of("m"), null, expiresAt, 1, NOW));
        tenants.put("acme", new TenantState("acme", "Acme", tenant, "pro", "UTC", "USD", Limits.NONE, null, null, 1, NOW));
    }

    private void active() {
        state(KeyState.Status.ACTIVE, null, List.of(new KeyState.Secret(current.hash(), null)), TenantState.Status.ACTIVE);
    }

    private Authenticator.Result auth(String header) {
        return authenticator.authenticate(header, NOW);
    }

    private static String code(Authenticator.Result result) {
        return result instanceof Authenticator.Refused refused ? refused.error().code() : "ok";
    }

    @Test
    void aValidKeyAuthenticatesItsTenant() {
        active();

        Authenticator.Result result = auth("Bearer " + current.token());

        assertThat(result).isInstanceOfSatisfying(Authenticator.Authenticated.class, ok -> {
            assertThat(ok.principal().tenantId()).isEqualTo("acme");
            assertThat(ok.principal().mayUse("m")).isTrue();
            assertThat(ok.principal().mayUse("other")).isFalse();
        });
        assertThat(code(auth("bearer " + current.token()))).as("the scheme is case-insensitive").isEqualTo("ok");
    }

    @Test
    void aMissingHeaderIsMissingKeyAndEverythingElseWrongIsTheSame401() {
        active();
        ApiKeys.NewKey other = ApiKeys.issue(KEY_ID);

        assertThat(code(auth(null))).isEqualTo("missing_api_key");
        for (String header : List.of("Basic abc", "Bearer ", "Bearer sk-123", "Bearer " + other.token(),
                "Bearer " + ApiKeys.issue(ApiKeys.newKeyId()).token(), current.token())) {
            Authenticator.Result result = auth(header);
            assertThat(code(result)).as(header).isEqualTo("invalid_api_key");
            assertThat(((Authenticator.Refused) result).error().status()).isEqualTo(401);
        }
    }

    @Test
    void revokedAndExpiredKeysAreRefused() {
        state(KeyState.Status.REVOKED, null, List.of(new KeyState.Secret(current.hash(), null)), TenantState.Status.ACTIVE);
        assertThat(code(auth("Bearer " + current.token()))).isEqualTo("invalid_api_key");

        state(KeyState.Status.ACTIVE, NOW, List.of(new KeyState.Secret(current.hash(), null)), TenantState.Status.ACTIVE);
        assertThat(code(auth("Bearer " + current.token()))).as("expiresAt is exclusive").isEqualTo("invalid_api_key");

        state(KeyState.Status.ACTIVE, NOW.plusSeconds(1), List.of(new KeyState.Secret(current.hash(), null)), TenantState.Status.ACTIVE);
        assertThat(code(auth("Bearer " + current.token()))).isEqualTo("ok");
    }

    @Test
    void bothSecretsWorkDuringTheGracePeriodAndOnlyTheNewOneAfter() {
        ApiKeys.NewKey rotated = ApiKeys.issue(KEY_ID);
        state(KeyState.Status.ACTIVE, null, List.of(new KeyState.Secret(rotated.hash(), null),
                new KeyState.Secret(current.hash(), NOW.plusSeconds(60))), TenantState.Status.ACTIVE);

        assertThat(code(auth("Bearer " + current.token()))).isEqualTo("ok");
        assertThat(code(auth("Bearer " + rotated.token()))).isEqualTo("ok");
        assertThat(code(authenticator.authenticate("Bearer " + current.token(), NOW.plusSeconds(60)))).isEqualTo("invalid_api_key");
        assertThat(code(authenticator.authenticate("Bearer " + rotated.token(), NOW.plusSeconds(60)))).isEqualTo("ok");
    }

    @Test
    void aSuspendedTenantIsRefusedWith403AndAnUnknownTenantWith401() {
        state(KeyState.Status.ACTIVE, null, List.of(new KeyState.Secret(current.hash(), null)), TenantState.Status.SUSPENDED);
        Authenticator.Result suspended = auth("Bearer " + current.token());
        assertThat(code(suspended)).isEqualTo("tenant_suspended");
        assertThat(((Authenticator.Refused) suspended).error().status()).isEqualTo(403);

        tenants.clear();
        assertThat(code(auth("Bearer " + current.token()))).isEqualTo("invalid_api_key");
    }
}
