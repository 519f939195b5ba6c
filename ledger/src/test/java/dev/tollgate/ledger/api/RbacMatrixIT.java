package dev.tollgate.ledger.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.schemas.json.EventCodec;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every endpoint x every role x own/other tenant. The expectations are written out here, not
 * derived from the policy, so that a change to the policy must change this table too.
 * A tenant-admin of A must get 404 (never data, never a hint) for anything of B.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RbacMatrixIT extends LedgerTestSupport {
    enum Expect { ALLOWED, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED }

    private static final String A = newTenantId("rbac-a");
    private static final String B = newTenantId("rbac-b");
    private static final String PLAN = newTenantId("rbac-plan");
    private final Map<String, String> keyOf = new HashMap<>();
    private final Map<String, String> grantOf = new HashMap<>();

    /** An endpoint: method, path with {T} (tenant) and {K} (a key of that tenant), a body. */
    record Endpoint(String name, String method, String path, String body) {}

    private static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("create tenant", "POST", "/admin/v1/tenants", "{\"tenantId\":\"{NEW}\",\"name\":\"{NEW}\"}"),
            new Endpoint("list tenants", "GET", "/admin/v1/tenants", null),
            new Endpoint("read tenant", "GET", "/admin/v1/tenants/{T}", null),
            new Endpoint("suspend tenant", "POST", "/admin/v1/tenants/{T}:suspend", "{\"reason\":\"rbac\"}"),
            new Endpoint("reinstate tenant", "POST", "/admin/v1/tenants/{T}:reinstate", null),
            new Endpoint("set tenant limits", "PUT", "/admin/v1/tenants/{T}/limits", "{\"requestsPerMinute\":10}"),
            new Endpoint("configure webhook", "PUT", "/admin/v1/tenants/{T}/webhook", "{\"url\":\"https://hooks.example/t\"}"),
            new Endpoint("assign plan", "PUT", "/admin/v1/tenants/{T}/plan", "{\"planId\":\"" + PLAN + "\"}"),
            new Endpoint("define plan", "PUT", "/admin/v1/plans/" + PLAN, "{\"name\":\"RBAC\"}"),
            new Endpoint("list plans", "GET", "/admin/v1/plans", null),
            new Endpoint("list price lists", "GET", "/admin/v1/price-lists?planId=" + PLAN, null),
            new Endpoint("publish price list", "POST", "/admin/v1/price-lists", "{\"planId\":\"" + PLAN
                    + "\",\"currency\":\"USD\",\"effectiveFrom\":\"2099-01-01T00:00:00Z\",\"prices\":[{\"model\":\"m\",\"inputMicrosPerMillionTokens\":1,"
                    + "\"cachedInputMicrosPerMillionTokens\":1,\"outputMicrosPerMillionTokens\":1}]}"),
            new Endpoint("issue key", "POST", "/admin/v1/tenants/{T}/keys", "{\"name\":\"rbac\"}"),
            new Endpoint("list keys", "GET", "/admin/v1/tenants/{T}/keys", null),
            new Endpoint("read key", "GET", "/admin/v1/keys/{K}", null),
            new Endpoint("set key limits", "PUT", "/admin/v1/keys/{K}/limits", "{\"requestsPerMinute\":5}"),
            new Endpoint("rotate key", "POST", "/admin/v1/keys/{K}:rotate", "{\"gracePeriodSeconds\":60}"),
            new Endpoint("read events", "GET", "/admin/v1/tenants/{T}/events", null),
            new Endpoint("grant credit", "POST", "/admin/v1/tenants/{T}/credit-grants", "{\"amountMicros\":1000,\"source\":\"PROMOTION\"}"),
            new Endpoint("list credit grants", "GET", "/admin/v1/tenants/{T}/credit-grants", null),
            new Endpoint("void credit grant", "POST", "/admin/v1/tenants/{T}/credit-grants/{G}:void", "{\"reason\":\"rbac\"}"),
            new Endpoint("set billing mode", "PUT", "/admin/v1/tenants/{T}/billing-mode", "{\"mode\":\"HYBRID\"}"),
            new Endpoint("clear billing mode", "DELETE", "/admin/v1/tenants/{T}/billing-mode", null),
            new Endpoint("revoke key", "POST", "/admin/v1/keys/{K}:revoke", "{\"reason\":\"rbac\"}"));

    /** What each role may do; tenant-admin rows hold for its own tenant (other tenant: 404 where allowed, else 403). */
    private static final Map<String, List<String>> ALLOWED = Map.of(
            "platform-admin", ENDPOINTS.stream().map(Endpoint::name).toList(),
            "tenant-admin", List.of("read tenant", "configure webhook", "issue key", "list keys", "read key", "set key limits", "rotate key",
                    "read events", "revoke key", "list credit grants"),
            "billing", List.of("list tenants", "read tenant", "list plans", "list price lists", "grant credit", "list credit grants",
                    "void credit grant", "set billing mode", "clear billing mode"),
            "auditor", List.of("list tenants", "read tenant", "list plans", "list price lists", "list keys", "read key", "read events",
                    "list credit grants"),
            "none", List.of());

    @BeforeAll
    void tenantsWithKeys() {
        String admin = platformAdmin();
        assertThat(call("PUT", "/admin/v1/plans/" + PLAN, admin, "{\"name\":\"RBAC\"}").statusCode()).isEqualTo(200);
        for (String tenant : List.of(A, B)) {
            assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"Name of " + tenant + "\"}").statusCode()).isEqualTo(201);
            HttpResponse<String> key = call("POST", "/admin/v1/tenants/" + tenant + "/keys", admin, "{\"name\":\"key of " + tenant + "\"}");
            keyOf.put(tenant, readTree(key.body()).path("keyId").asText());
            HttpResponse<String> grant = call("POST", "/admin/v1/tenants/" + tenant + "/credit-grants", admin,
                    "{\"amountMicros\":5000,\"source\":\"PROMOTION\"}");
            assertThat(grant.statusCode()).as(grant.body()).isEqualTo(201);
            grantOf.put(tenant, readTree(grant.body()).path("grantId").asText());
        }
        // The read model is eventually consistent: start once it shows what was just created.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
                call("GET", "/admin/v1/keys/" + keyOf.get(A), admin, null).statusCode() == 200
                        && call("GET", "/admin/v1/keys/" + keyOf.get(B), admin, null).statusCode() == 200
                        && call("GET", "/admin/v1/tenants/" + B, admin, null).statusCode() == 200);
    }

    static Stream<Arguments> matrix() {
        var cases = new ArrayList<Arguments>();
        for (Endpoint endpoint : ENDPOINTS) {
            for (String role : ALLOWED.keySet().stream().sorted().toList()) {
                for (String target : List.of("own", "other")) {
                    cases.add(Arguments.of(endpoint, role, target));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{1} -> {0} of {2} tenant")
    @MethodSource("matrix")
    void everyRoleGetsExactlyWhatThePolicySays(Endpoint endpoint, String role, String target) {
        String tenant = target.equals("own") ? A : B;
        String token = role.equals("none") ? token("nobody", List.of(), null) : token(role + "@test", List.of(role), A);
        String path = endpoint.path().replace("{T}", tenant).replace("{K}", keyOf.get(tenant)).replace("{G}", grantOf.get(tenant));
        String body = endpoint.body() == null ? null : endpoint.body().replace("{NEW}", newTenantId("rbac-new"));

        HttpResponse<String> response = call(endpoint.method(), path, token, body);

        Expect expected = expected(endpoint, role, target);
        switch (expected) {
            case ALLOWED -> assertThat(response.statusCode()).as(response.body()).isNotIn(401, 403, 404).isLessThan(500);
            case FORBIDDEN -> assertThat(response.statusCode()).as(response.body()).isEqualTo(403);
            case NOT_FOUND -> {
                assertThat(response.statusCode()).as(response.body()).isEqualTo(404);
                // Indistinguishable from a resource that does not exist; nothing of B's data.
                assertThat(readTree(response.body()).path("detail").asText()).isEqualTo("no such resource");
                assertThat(response.body()).doesNotContain("Name of " + B).doesNotContain("key of " + B);
            }
            case UNAUTHENTICATED -> assertThat(response.statusCode()).isEqualTo(401);
        }
        if (response.statusCode() >= 400) {
            assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("application/problem+json");
        }
    }

    private static Expect expected(Endpoint endpoint, String role, String target) {
        boolean allowed = ALLOWED.get(role).contains(endpoint.name());
        if (!role.equals("tenant-admin")) {
            return allowed ? Expect.ALLOWED : Expect.FORBIDDEN;
        }
        if (!allowed) {
            return Expect.FORBIDDEN;
        }
        return target.equals("own") ? Expect.ALLOWED : Expect.NOT_FOUND;
    }

    @Test
    void tokensThatMustNotAuthenticate() {
        var now = new Date();
        var later = new Date(now.getTime() + 600_000);
        var valid = new JWTClaimsSet.Builder().subject("x").issuer(ISSUER).audience(AUDIENCE)
                .expirationTime(later).claim("roles", List.of("platform-admin"));
        String wrongKey = sign(valid.build(), "another-secret-that-is-long-enough-for-hs256");
        String wrongAudience = sign(new JWTClaimsSet.Builder(valid.build()).audience("someone-else").build(), JWT_SECRET);
        String wrongIssuer = sign(new JWTClaimsSet.Builder(valid.build()).issuer("evil").build(), JWT_SECRET);
        String expired = sign(new JWTClaimsSet.Builder(valid.build())
                .expirationTime(new Date(now.getTime() - 3_600_000)).build(), JWT_SECRET);
        String unsigned = new PlainJWT(valid.build()).serialize();
        String validToken = sign(valid.build(), JWT_SECRET);
        String[] parts = validToken.split("\\.");
        String tamperedPayload = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("{\"sub\":\"x\",\"iss\":\"" + ISSUER + "\",\"aud\":\"" + AUDIENCE + "\",\"exp\":" + (later.getTime() / 1000)
                        + ",\"roles\":[\"tenant-admin\"],\"tenant\":\"" + B + "\"}").getBytes());
        String tampered = parts[0] + "." + tamperedPayload + "." + parts[2];

        for (String bad : List.of(wrongKey, wrongAudience, wrongIssuer, expired, unsigned, tampered, "garbage")) {
            assertThat(call("GET", "/admin/v1/tenants", bad, null).statusCode()).as(bad).isEqualTo(401);
        }
        assertThat(call("GET", "/admin/v1/tenants", validToken, null).statusCode()).isEqualTo(200);
    }

    private static JsonNode readTree(String json) {
        try {
            return EventCodec.mapper().readTree(json);
        } catch (IOException e) {
            throw new AssertionError(json, e);
        }
    }
}
