package dev.tollgate.projector.alert;

import dev.tollgate.service.webhook.WebhookTargets;
import dev.tollgate.service.webhook.WebhookTargets.HostResolver;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.util.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;

/**
 * Sends one webhook request, pinned (issue #19 item 11): the target's name is resolved once per
 * connection, by the client's own resolver, and every address is vetted
 * ({@link WebhookTargets#vettedAddresses}) before the client connects to one of those addresses and no
 * other; TLS (SNI, certificate check) and {@code Host} still use the URL's name. There is no second
 * lookup for a rebinding name to answer differently, no proxy from the environment, no redirect, no
 * automatic retry (the delivery log retries).
 */
final class WebhookSender implements AutoCloseable {

    /** What a POST came to: an HTTP status, or an error (with {@code refused} when the target may not be called). */
    record Outcome(Integer status, String error, boolean refused) {}

    private final CloseableHttpClient http;
    private final boolean allowPrivateTargets;

    WebhookSender(boolean allowPrivateTargets, HostResolver hosts, Duration connectTimeout, Duration responseTimeout) {
        this.allowPrivateTargets = allowPrivateTargets;
        DnsResolver resolver = new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                return allowPrivateTargets ? hosts.resolve(host) : WebhookTargets.vettedAddresses(host, hosts);
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
        var connections = PoolingHttpClientConnectionManagerBuilder.create().setDnsResolver(resolver)
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.of(connectTimeout))
                        .setSocketTimeout(Timeout.of(responseTimeout)).build())
                .build();
        this.http = HttpClients.custom().setConnectionManager(connections).disableRedirectHandling().disableAutomaticRetries()
                .disableCookieManagement().disableAuthCaching()
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(Timeout.of(responseTimeout)).build()).build();
    }

    /** The default: the system resolver, 5 s to connect, 10 s for the answer. */
    WebhookSender(boolean allowPrivateTargets) {
        this(allowPrivateTargets, InetAddress::getAllByName, Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    /** POSTs {@code body} to {@code url}, unless the URL (its shape, a literal address, a special-use name) is refused. */
    Outcome post(String url, Map<String, String> headers, String body) {
        String refused = WebhookTargets.refusal(url, allowPrivateTargets);
        if (refused != null) {
            return new Outcome(null, refused, true);
        }
        HttpPost post = new HttpPost(url);
        headers.forEach(post::setHeader);
        post.setEntity(new StringEntity(body, ContentType.create("application/cloudevents+json", "UTF-8")));
        try {
            return http.execute(post, response -> new Outcome(response.getCode(), null, false));
        } catch (WebhookTargets.RefusedTarget e) {
            return new Outcome(null, e.getMessage(), true);
        } catch (IOException e) {
            return new Outcome(null, e.getClass().getSimpleName(), false);
        }
    }

    @Override
    public void close() throws IOException {
        http.close();
    }
}
