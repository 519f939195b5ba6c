package dev.tollgate.schemas;

import dev.tollgate.schemas.key.ApiKeys;
import dev.tollgate.schemas.ledger.SecretHash;
import org.junit.jupiter.api.Test;

import java.util.HashSet;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKeysTest {

    @Test
    void anIssuedTokenParsesAndVerifiesAgainstItsHash() {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());

        var presented = ApiKeys.parse(key.token()).orElseThrow();

        assertThat(presented.keyId()).isEqualTo(key.keyId());
        assertThat(key.token()).startsWith("tg_" + key.keyId() + "_");
        assertThat(ApiKeys.verify(presented, key.hash())).isTrue();
        assertThat(key.hash().algorithm()).isEqualTo("sha256-v1");
    }

    @Test
    void theHashNeverContainsTheSecretAndToStringNeverShowsIt() {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        String secret = ApiKeys.parse(key.token()).orElseThrow().secret();

        assertThat(key.hash().value()).doesNotContain(secret);
        assertThat(key.toString()).doesNotContain(secret);
        assertThat(ApiKeys.parse(key.token()).orElseThrow().toString()).doesNotContain(secret);
        assertThat(key.hash().toString()).doesNotContain(key.hash().value());
    }

    @Test
    void aWrongSecretOrAnotherKeysHashDoesNotVerify() {
        ApiKeys.NewKey a = ApiKeys.issue(ApiKeys.newKeyId());
        ApiKeys.NewKey b = ApiKeys.issue(ApiKeys.newKeyId());
        var presentedA = ApiKeys.parse(a.token()).orElseThrow();
        var tampered = new ApiKeys.PresentedKey(presentedA.keyId(), presentedA.secret().substring(1) + "x");

        assertThat(ApiKeys.verify(presentedA, b.hash())).isFalse();
        assertThat(ApiKeys.verify(tampered, a.hash())).isFalse();
        // The hash binds the key id: the same secret under another id does not verify.
        assertThat(ApiKeys.verify(new ApiKeys.PresentedKey(b.keyId(), presentedA.secret()), a.hash())).isFalse();
    }

    @Test
    void unknownAlgorithmsAndGarbageHashesNeverVerify() {
        ApiKeys.NewKey key = ApiKeys.issue(ApiKeys.newKeyId());
        var presented = ApiKeys.parse(key.token()).orElseThrow();

        assertThat(ApiKeys.verify(presented, new SecretHash("md5", key.hash().value()))).isFalse();
        assertThat(ApiKeys.verify(presented, new SecretHash("sha256-v1", "%%%not-base64"))).isFalse();
    }

    @Test
    void malformedTokensDoNotParse() {
        String good = ApiKeys.issue(ApiKeys.newKeyId()).token();

        assertThat(ApiKeys.parse(null)).isEmpty();
        assertThat(ApiKeys.parse("")).isEmpty();
        assertThat(ApiKeys.parse("sk-" + good.substring(3))).isEmpty();
        assertThat(ApiKeys.parse(good + "x")).isEmpty();
        assertThat(ApiKeys.parse(good.substring(0, 19) + "-" + good.substring(20))).isEmpty();
        assertThat(ApiKeys.parse(good.replace(good.charAt(25), '!'))).isEmpty();
    }

    @Test
    void idsAndSecretsAreRandom() {
        var ids = new HashSet<String>();
        for (int i = 0; i < 1000; i++) {
            assertThat(ids.add(ApiKeys.newKeyId())).isTrue();
        }
        assertThat(ApiKeys.issue("AAAAAAAAAAAAAAAA").token()).isNotEqualTo(ApiKeys.issue("AAAAAAAAAAAAAAAA").token());
    }
}
