package dev.tollgate.gateway.upstream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UpstreamConfigTest {

    @Test
    void aValidFileListsItsModels() {
        UpstreamConfig config = UpstreamConfig.parse("""
                pools:
                  local:
                    timeouts: {connectMs: 1000}
                    endpoints:
                      - {url: "http://127.0.0.1:8000", weight: 2}
                models:
                  fake-embed: {pool: local}
                  fake-chat: {pool: local, upstreamModel: served-name}
                """);

        assertThat(config.modelNames()).containsExactly("fake-chat", "fake-embed");
        assertThat(config.pools().get("local").endpoints().getFirst().weightOrDefault()).isEqualTo(2);
        assertThat(config.pools().get("local").endpoints().getFirst().maxConcurrencyOrDefault()).isEqualTo(256);
    }

    @Test
    void mistakesFailNamingTheKey() {
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {}\nmodels: {m: {pool: nowhere}}"))
                .hasMessageContaining("models.m.pool");
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {p: {endpoints: []}}"))
                .hasMessageContaining("pools.p.endpoints");
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {p: {endpoints: [{url: 'ftp://x'}]}}"))
                .hasMessageContaining("pools.p.endpoints[0].url");
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {p: {endpoints: [{url: 'http://x', weight: 0}]}}"))
                .hasMessageContaining("weight");
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {p: {timeouts: {idleMs: 0}, endpoints: [{url: 'http://x'}]}}"))
                .hasMessageContaining("pools.p.timeouts");
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {p: {endpoints: [{url: 'http://x', wieght: 2}]}}"))
                .as("a misspelt key is an error, not a silent default").hasMessageContaining("wieght");
        assertThatThrownBy(() -> UpstreamConfig.parse("pools: {p: {apis: [chat.completions, chat], endpoints: [{url: 'http://x'}]}}"))
                .hasMessageContaining("pools.p.apis").hasMessageContaining("'chat'");
    }

    @Test
    void aPoolSpeaksTheApisItNamesOrAllOfThem() {
        var config = UpstreamConfig.parse("pools: {a: {apis: [chat.completions, messages], endpoints: [{url: 'http://x'}]},"
                + " b: {endpoints: [{url: 'http://y'}]}}\nmodels: {m: {pool: a}}");
        assertThat(config.pools().get("a").speaks("messages")).isTrue();
        assertThat(config.pools().get("a").speaks("responses")).isFalse();
        assertThat(config.pools().get("b").speaks("responses")).isTrue();
    }
}
