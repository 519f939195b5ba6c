package dev.tollgate.schemas.key;

import dev.tollgate.schemas.usage.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KeyScopesTest {
    @Test
    void anEndpointScopeAllowsThatEndpointAndTheModelListOnly() {
        List<String> embeddings = List.of("embeddings");
        assertThat(KeyScopes.allows(embeddings, Endpoint.EMBEDDINGS)).isTrue();
        assertThat(KeyScopes.allows(embeddings, Endpoint.CHAT_COMPLETIONS)).isFalse();
        assertThat(KeyScopes.allows(embeddings, Endpoint.COMPLETIONS)).isFalse();
        assertThat(KeyScopes.allowsModelList(embeddings)).isTrue();
    }

    @Test
    void inferenceAllowsEveryEndpointAndNoScopesAtAllAllowsEverythingAsBefore() {
        for (Endpoint endpoint : Endpoint.values()) {
            assertThat(KeyScopes.allows(List.of("inference"), endpoint)).isTrue();
            assertThat(KeyScopes.allows(List.of(), endpoint)).isTrue();
            assertThat(KeyScopes.allows(List.of("models.read"), endpoint)).isFalse();
            assertThat(KeyScopes.of(endpoint)).as("every endpoint has a scope").isNotNull();
        }
        assertThat(KeyScopes.allowsModelList(List.of("models.read"))).isTrue();
        assertThat(KeyScopes.allowsModelList(List.of())).isTrue();
    }

    @Test
    void unknownNamesAreReportedInTheirOrder() {
        assertThat(KeyScopes.unknown(List.of("admin", "embeddings", "Inference"))).containsExactly("admin", "Inference");
        assertThat(KeyScopes.unknown(List.copyOf(KeyScopes.KNOWN))).isEmpty();
    }
}
