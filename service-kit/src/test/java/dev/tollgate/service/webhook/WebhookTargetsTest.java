package dev.tollgate.service.webhook;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    /** Every target of issue #19 item 11, each of which the old check accepted. */
    @Test
    void everyFormThatReachesInsideIsRefused() {
        for (String host : new String[]{"[::127.0.0.1]", "[::7f00:1]", "[::a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]",
                "[::ffff:0:a9fe:a9fe]", "0x7f000001", "localhost.", "0.1.2.3", "192.0.0.1", "198.18.0.1", "240.0.0.1",
                "255.255.255.255", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "2130706433", "127.1", "0177.0.0.1", "[fe80::1]",
                "[ff02::1]", "[2001:db8::1]", "[2001::1]", "[64:ff9b:1::1]", "[100::1]", "[3fff::1]", "[5f00::1]", "[::]",
                "hooks.localhost", "printer.local", "metadata.google.internal", "router.home.arpa", "224.0.0.1", "192.88.99.1",
                "203.0.113.9", "[4000::1]"}) {
            assertThat(WebhookTargets.refusal("https://" + host + "/hook", false)).as(host).isNotNull();
        }
    }

    @Test
    void publicTargetsPass() {
        for (String host : new String[]{"93.184.215.14", "hooks.example.com", "hooks.example.com.", "[2606:4700::6810:84e5]",
                "[64:ff9b::5db8:d70e]", "[2002:5db8:d70e::1]", "8.8.8.8", "1.2.3.4.nip.example"}) {
            assertThat(WebhookTargets.refusal("https://" + host + "/hooks/tollgate", false)).as(host).isNull();
        }
    }

    @Test
    void badUrlsAreRefusedAlways() {
        assertThat(WebhookTargets.refusal("ftp://93.184.215.14/x", true)).contains("http");
        assertThat(WebhookTargets.refusal("https://user:pw@93.184.215.14/x", true)).contains("credentials");
        assertThat(WebhookTargets.refusal("not a url at all", true)).isNotNull();
    }

    @Test
    void aNameIsJudgedByEveryAddressItResolvesToOnce() throws Exception {
        var calls = new AtomicInteger();
        WebhookTargets.HostResolver rebinding = host -> calls.getAndIncrement() == 0
                ? new InetAddress[]{InetAddress.getByName("93.184.215.14")} : new InetAddress[]{InetAddress.getLoopbackAddress()};
        assertThat(WebhookTargets.vettedAddresses("hooks.example.com", rebinding)).extracting(InetAddress::getHostAddress)
                .containsExactly("93.184.215.14");
        assertThat(calls).hasValue(1);
        assertThatThrownBy(() -> WebhookTargets.vettedAddresses("hooks.example.com", rebinding))
                .isInstanceOf(WebhookTargets.RefusedTarget.class).hasMessageContaining("127.0.0.1").hasMessageContaining("loopback");

        WebhookTargets.HostResolver mixed = host -> new InetAddress[]{InetAddress.getByName("93.184.215.14"),
                InetAddress.getByName("169.254.169.254")};
        assertThatThrownBy(() -> WebhookTargets.vettedAddresses("hooks.example.com", mixed)).isInstanceOf(WebhookTargets.RefusedTarget.class);
        WebhookTargets.HostResolver mapped = host -> new InetAddress[]{InetAddress.getByAddress(
                new byte[]{0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0, 127, 0, 0, 1})};
        assertThatThrownBy(() -> WebhookTargets.vettedAddresses("hooks.example.com", mapped)).hasMessageContaining("127.0.0.1");
        assertThatThrownBy(() -> WebhookTargets.vettedAddresses("localhost", host -> {
            throw new AssertionError("a special-use name is refused before any lookup");
        })).isInstanceOf(WebhookTargets.RefusedTarget.class);
        assertThatThrownBy(() -> WebhookTargets.vettedAddresses("nowhere.example", host -> {
            throw new UnknownHostException(host);
        })).isInstanceOf(UnknownHostException.class).isNotInstanceOf(WebhookTargets.RefusedTarget.class);
    }
}
