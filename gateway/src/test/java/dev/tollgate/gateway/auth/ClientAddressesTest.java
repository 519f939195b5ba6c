package dev.tollgate.gateway.auth;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientAddressesTest {
    /** A request from {@code peer} with the given X-Forwarded-For headers (only what ClientAddresses reads). */
    private static HttpServerRequest request(String peer, String... forwardedFor) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        for (String value : forwardedFor) {
            headers.add("X-Forwarded-For", value);
        }
        return (HttpServerRequest) Proxy.newProxyInstance(HttpServerRequest.class.getClassLoader(), new Class<?>[] {HttpServerRequest.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "remoteAddress" -> SocketAddress.inetSocketAddress(40_000, peer);
                    case "headers" -> headers;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void withoutTrustedProxiesTheHeaderIsIgnored() {
        assertThat(ClientAddresses.direct().of(request("10.1.2.3", "203.0.113.9"))).isEqualTo("10.1.2.3");
    }

    @Test
    void behindTrustedProxiesTheRightMostUntrustedHopIsTheClient() {
        var addresses = ClientAddresses.trusting(List.of("10.0.0.0/8", " fd00::/8", "192.0.2.1"));
        assertThat(addresses.of(request("10.1.2.3", "203.0.113.9"))).isEqualTo("203.0.113.9");
        // A client cannot pick its bucket by prepending: the right-most untrusted hop counts.
        assertThat(addresses.of(request("10.1.2.3", "1.1.1.1, 203.0.113.9, 10.9.9.9"))).isEqualTo("203.0.113.9");
        assertThat(addresses.of(request("10.1.2.3", "1.1.1.1", "203.0.113.9"))).as("several headers").isEqualTo("203.0.113.9");
        assertThat(addresses.of(request("192.0.2.1", "2001:db8::5"))).isEqualTo("2001:db8::5");
        assertThat(addresses.of(request("10.1.2.3", "not-an-address"))).as("a malformed hop keeps the proxy's bucket").isEqualTo("10.1.2.3");
        assertThat(addresses.of(request("10.1.2.3"))).as("no header").isEqualTo("10.1.2.3");
        assertThat(addresses.of(request("198.51.100.4", "203.0.113.9"))).as("an untrusted peer is the client").isEqualTo("198.51.100.4");
    }

    @Test
    void aRangeThatIsNotCidrFailsStartUpNamingIt() {
        assertThatThrownBy(() -> ClientAddresses.trusting(List.of("10.0.0.0/8", "proxy.internal"))).hasMessageContaining("proxy.internal");
    }
}
