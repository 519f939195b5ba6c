package dev.tollgate.schemas.ledger;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * The stored form of an API key secret: never the secret itself.
 *
 * @param algorithm names the scheme (chosen by the ledger, verified by the gateway)
 * @param value     the encoded hash, including any salt or parameters the scheme needs
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SecretHash(String algorithm, String value) {
    public SecretHash {
        requiredText(algorithm, "algorithm");
        requiredText(value, "value");
    }

    @Override
    public String toString() {
        return "SecretHash[" + algorithm + ", <redacted>]";
    }
}
