package dev.tollgate.service;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Where a tenant's webhook may point (SSRF protection): http(s) only, no credentials in the URL,
 * and no host that resolves to a loopback, private (RFC 1918, IPv6 unique-local), link-local
 * (cloud metadata services live there), wildcard or multicast address, unless the operator allows
 * private targets. Checked when the URL is configured and again, on the resolved addresses, before
 * each delivery.
 */
public final class WebhookTargets {
    private WebhookTargets() {}

    /** Why {@code url} is refused, or null if it may be called (resolving its host, as before a delivery). */
    public static String refusal(String url, boolean allowPrivate) {
        return refusal(url, allowPrivate, true);
    }

    /**
     * As {@link #refusal(String, boolean)}; with {@code resolve} false (when a URL is configured, DNS
     * may differ from the sender's) only IP literals and {@code localhost} are checked.
     */
    public static String refusal(String url, boolean allowPrivate, boolean resolve) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return "not a valid URL";
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            return "only http and https URLs are allowed";
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            return "the URL has no host";
        }
        if (uri.getRawUserInfo() != null) {
            return "credentials in the URL are not allowed";
        }
        if (allowPrivate) {
            return null;
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        boolean literal = host.startsWith("[") || host.matches("[0-9.]+");
        if (!resolve && !literal && !host.equals("localhost") && !host.endsWith(".localhost")) {
            return null;
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(uri.getHost())) {
                if (isPrivate(address)) {
                    return "the host resolves to a loopback, private or link-local address (" + address.getHostAddress() + ")";
                }
            }
        } catch (UnknownHostException e) {
            return "the host does not resolve";
        }
        return null;
    }

    /** Loopback, wildcard, RFC 1918, link-local, multicast, IPv6 unique-local (fc00::/7), CGNAT 100.64/10. */
    public static boolean isPrivate(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isSiteLocalAddress() || address.isLinkLocalAddress()
                || address.isMulticastAddress()) {
            return true;
        }
        byte[] bytes = address.getAddress();
        if (address instanceof Inet6Address) {
            return (bytes[0] & 0xfe) == 0xfc;
        }
        return (bytes[0] & 0xff) == 100 && (bytes[1] & 0xc0) == 64;
    }
}
