package dev.tollgate.service.security;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The token attacks the admin and billing APIs must refuse (both use {@link BearerSecurity#decoder}):
 * every forged or stale token is a {@link JwtException}, which the resource server answers with 401.
 */
class JwtAttacksTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef-test-secret";
    private static final JwtDecoder DECODER = BearerSecurity.decoder(new JwtSettings(SECRET, null, "tollgate", "tollgate-admin", null));

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().subject("acme-admin").issuer("tollgate").audience("tollgate-admin")
                .claim("roles", List.of("tenant-admin")).claim("tenant", "acme")
                .issueTime(Date.from(Instant.now())).expirationTime(Date.from(Instant.now().plusSeconds(300)));
    }

    private static String hs256(JWTClaimsSet claims, String secret) throws Exception {
        var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    @Test
    void aGenuineTokenIsAccepted() throws Exception {
        var jwt = DECODER.decode(hs256(claims().build(), SECRET));
        assertThat(Caller.of(jwt).tenant()).isEqualTo("acme");
    }

    @Test
    void algNoneIsRefused() {
        String unsigned = new PlainJWT(claims().claim("roles", List.of("platform-admin")).build()).serialize();
        assertThatThrownBy(() -> DECODER.decode(unsigned)).isInstanceOf(JwtException.class);
        // ... also with the signature part of a genuine token glued on.
        assertThatThrownBy(() -> DECODER.decode(unsigned + "c2lnbmF0dXJl")).isInstanceOf(JwtException.class);
    }

    @Test
    void aTokenSignedWithAnotherKeyIsRefused() throws Exception {
        String forged = hs256(claims().build(), "another-secret-of-at-least-32-bytes-long!!");
        assertThatThrownBy(() -> DECODER.decode(forged)).isInstanceOf(JwtException.class);
    }

    @Test
    void anRs256TokenIsRefusedByAnHs256Api() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).generate();
        var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims().build());
        jwt.sign(new RSASSASigner(rsa));
        assertThatThrownBy(() -> DECODER.decode(jwt.serialize())).isInstanceOf(JwtException.class);
    }

    @Test
    void wrongAudienceWrongIssuerAndExpiryAreRefused() throws Exception {
        String otherAudience = hs256(claims().audience("billing-elsewhere").build(), SECRET);
        String otherIssuer = hs256(claims().issuer("evil").build(), SECRET);
        String expired = hs256(claims().issueTime(Date.from(Instant.now().minusSeconds(7200)))
                .expirationTime(Date.from(Instant.now().minusSeconds(3600))).build(), SECRET);
        String noAudience = hs256(claims().audience((String) null).build(), SECRET);
        for (String token : List.of(otherAudience, otherIssuer, expired, noAudience)) {
            assertThatThrownBy(() -> DECODER.decode(token)).isInstanceOf(JwtException.class);
        }
    }

    @Test
    void aTokenWithoutExpiryOrSubjectOrThatLivesTooLongOrComesFromTheFutureIsRefused() throws Exception {
        Instant now = Instant.now();
        String noExpiry = hs256(claims().expirationTime(null).build(), SECRET);
        String year9999 = hs256(claims().expirationTime(Date.from(Instant.parse("9999-12-31T00:00:00Z"))).build(), SECRET);
        String twoDays = hs256(claims().expirationTime(Date.from(now.plus(Duration.ofDays(2)))).build(), SECRET);
        String twoDaysNoIat = hs256(claims().issueTime(null).expirationTime(Date.from(now.plus(Duration.ofDays(2)))).build(), SECRET);
        String fromTheFuture = hs256(claims().issueTime(Date.from(now.plus(Duration.ofMinutes(10))))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(20)))).build(), SECRET);
        String noSubject = hs256(claims().subject(null).build(), SECRET);
        for (String token : List.of(noExpiry, year9999, twoDays, twoDaysNoIat, fromTheFuture, noSubject)) {
            assertThatThrownBy(() -> DECODER.decode(token)).isInstanceOf(JwtException.class);
        }
        // Within the bounds: a day's token, and one issued a little ahead by a clock within the skew.
        assertThat(DECODER.decode(hs256(claims().expirationTime(Date.from(now.plus(Duration.ofHours(23)))).build(), SECRET))).isNotNull();
        assertThat(DECODER.decode(hs256(claims().issueTime(Date.from(now.plusSeconds(30))).build(), SECRET))).isNotNull();
        assertThat(DECODER.decode(hs256(claims().issueTime(null).build(), SECRET))).as("no iat: the lifetime counts from now").isNotNull();
        // The bound is configurable.
        JwtDecoder lenient = BearerSecurity.decoder(new JwtSettings(SECRET, null, "tollgate", "tollgate-admin", Duration.ofDays(3)));
        assertThat(lenient.decode(twoDays)).isNotNull();
        assertThatThrownBy(() -> lenient.decode(year9999)).isInstanceOf(JwtException.class);
    }

    @Test
    void aTamperedTenantClaimBreaksTheSignature() throws Exception {
        String genuine = hs256(claims().build(), SECRET);
        String[] parts = genuine.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        String tampered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(payload.replace("\"acme\"", "\"globex\"").getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertThat(payload).contains("\"acme\"");
        assertThatThrownBy(() -> DECODER.decode(tampered)).isInstanceOf(JwtException.class);
    }

    @Test
    void aWeakOrAmbiguousConfigurationDoesNotStart() {
        assertThatThrownBy(() -> BearerSecurity.decoder(new JwtSettings("short", null, "tollgate", "tollgate-admin", null)))
                .hasMessageContaining("32 bytes");
        assertThatThrownBy(() -> BearerSecurity.decoder(new JwtSettings(SECRET, "https://idp/jwks", "tollgate", "tollgate-admin", null)))
                .hasMessageContaining("exactly one");
    }
}
