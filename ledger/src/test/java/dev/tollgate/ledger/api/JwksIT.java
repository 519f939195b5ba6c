package dev.tollgate.ledger.api;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.tollgate.ledger.support.LedgerTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Production mode: tokens verified with keys fetched from a JWKS URI (RS256), not a shared secret. */
class JwksIT extends LedgerTestSupport {
    private static final RSAKey SIGNING_KEY = generate("prod-1");
    private static final RSAKey ROGUE_KEY = generate("prod-1");
    private static HttpServer jwks;

    private static RSAKey generate(String keyId) {
        try {
            return new RSAKeyGenerator(2048).keyID(keyId).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    @DynamicPropertySource
    static void jwksMode(DynamicPropertyRegistry registry) throws IOException {
        jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] body = new JWKSet(SIGNING_KEY.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        jwks.createContext("/.well-known/jwks.json", exchange -> {
            exchange.getResponseHeaders().add("content-type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        jwks.start();
        jwksUri.set("http://127.0.0.1:" + jwks.getAddress().getPort() + "/.well-known/jwks.json");
    }

    @AfterAll
    static void stopJwks() {
        jwksUri.set(null);
        jwks.stop(0);
    }

    private static String rs256(RSAKey key, List<String> roles) throws JOSEException {
        var claims = new JWTClaimsSet.Builder().subject("ops").issuer(ISSUER).audience(AUDIENCE)
                .expirationTime(Date.from(Instant.now().plusSeconds(300))).claim("roles", roles).build();
        var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    @Test
    void tokensSignedByTheJwksKeyAreAcceptedAndOthersAreNot() throws Exception {
        assertThat(call("GET", "/admin/v1/tenants", rs256(SIGNING_KEY, List.of("platform-admin")), null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/admin/v1/tenants", rs256(ROGUE_KEY, List.of("platform-admin")), null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/admin/v1/tenants", platformAdmin(), null).statusCode())
                .as("an HS256 token is worthless once a JWKS is configured").isEqualTo(401);
    }
}
