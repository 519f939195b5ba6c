package dev.tollgate.testkit.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/** HS256 bearer tokens for the admin and billing APIs in tests, as an identity provider would mint them. */
public record TestTokens(String secret, String issuer, String audience) {

    /** A token for {@code subject} with {@code roles}, bound to {@code tenant} (may be null), valid ten minutes. */
    public String token(String subject, List<String> roles, String tenant) {
        var claims = new JWTClaimsSet.Builder().subject(subject).issuer(issuer).audience(audience)
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(10)))).claim("roles", roles);
        if (tenant != null) {
            claims.claim("tenant", tenant);
        }
        return sign(claims.build(), secret);
    }

    public static String sign(JWTClaimsSet claims, String secret) {
        try {
            var jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
