package dev.tollgate.service;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WebhookTargetsTest {

    @Test
    void internalAddressesAreRefusedUnlessTheOperatorAllowsThem() {
        for (String url : new String[]{"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://192.168.0.10/",
                "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fd00::1]/", "http://0.0.0.0/",
                "http://100.64.0.1/"}) {
            assertThat(WebhookTargets.refusal(url, false)).as(url).isNotNull();
            assertThat(WebhookTargets.refusal(url, true)).as(url).isNull();
        }
    }

    @Test
    void publicAddressesPassAndBadUrlsAreRefusedAlways() {
        assertThat(WebhookTargets.refusal("https://93.184.215.14/hooks/tollgate", false)).isNull();
        assertThat(WebhookTargets.refusal("ftp://93.184.215.14/x", true)).contains("http");
        assertThat(WebhookTargets.refusal("https://user:pw@93.184.215.14/x", true)).contains("credentials");
        assertThat(WebhookTargets.refusal("not a url at all", true)).isNotNull();
    }

    @Test
    void atConfigurationOnlyLiteralsAndLocalhostAreChecked() {
        assertThat(WebhookTargets.refusal("https://hooks.example/a", false, false)).isNull();
        assertThat(WebhookTargets.refusal("https://localhost/a", false, false)).isNotNull();
        assertThat(WebhookTargets.refusal("https://10.0.0.1/a", false, false)).isNotNull();
    }
}
