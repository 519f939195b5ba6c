package dev.tollgate.testkit.upstream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CassettesTest {

    @Test
    void everyShippedCassetteLoadsWithAStatusAndABody() {
        for (String name : Cassettes.NAMES) {
            Cassettes.Interaction interaction = Cassettes.load(name);
            assertThat(interaction.status()).as(name).isBetween(200, 599);
            assertThat(interaction.responseBody()).as(name).isNotBlank();
        }
    }

    @Test
    void theStreamingCassetteIsAnSseStreamEndingInDone() {
        Cassettes.Interaction interaction = Cassettes.load("chat-streaming");

        assertThat(interaction.streamed()).isTrue();
        assertThat(interaction.responseBody().strip()).endsWith("data: [DONE]");
    }
}
