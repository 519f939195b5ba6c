package dev.tollgate.gateway.auth;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import io.vertx.core.http.HttpServerRequest;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The address a request comes from, for throttling: the peer's, unless the peer is a trusted proxy
 * ({@code TOLLGATE_TRUSTED_PROXIES}, CIDR ranges), in which case the right-most address of
 * {@code X-Forwarded-For} that is not itself a trusted proxy. Without trusted proxies the header is
 * ignored (anyone can send it); with them, clients behind one ingress no longer share its bucket.
 */
public final class ClientAddresses {
    private final List<IpSubnetFilterRule> trusted;

    private ClientAddresses(List<IpSubnetFilterRule> trusted) {
        this.trusted = trusted;
    }

    /** No proxy is trusted: the peer's address is the client's. */
    public static ClientAddresses direct() {
        return new ClientAddresses(List.of());
    }

    /**
     * Trusts the proxies in {@code cidrs} ({@code 10.0.0.0/8}, {@code fd00::/8}; a bare address is one host).
     *
     * @throws IllegalArgumentException naming the entry that is not a CIDR range
     */
    public static ClientAddresses trusting(List<String> cidrs) {
        var rules = new ArrayList<IpSubnetFilterRule>();
        for (String cidr : cidrs) {
            String entry = cidr.strip();
            if (entry.isEmpty()) {
                continue;
            }
            try {
                int slash = entry.indexOf('/');
                String address = slash < 0 ? entry : entry.substring(0, slash);
                InetAddress parsed = literal(address);
                int bits = slash < 0 ? parsed.getAddress().length * 8 : Integer.parseInt(entry.substring(slash + 1));
                rules.add(new IpSubnetFilterRule(parsed, bits, IpFilterRuleType.ACCEPT));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("TOLLGATE_TRUSTED_PROXIES: '" + entry + "' is not a CIDR range", e);
            }
        }
        return new ClientAddresses(List.copyOf(rules));
    }

    /** The client's address for {@code request}. */
    public String of(HttpServerRequest request) {
        String peer = request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress();
        if (trusted.isEmpty() || !isTrusted(peer)) {
            return peer;
        }
        List<String> forwarded = request.headers().getAll("x-forwarded-for");
        var hops = new ArrayList<String>();
        for (String header : forwarded) {
            for (String hop : header.split(",")) {
                if (!hop.isBlank()) {
                    hops.add(hop.strip());
                }
            }
        }
        for (int i = hops.size() - 1; i >= 0; i--) {
            String hop = hops.get(i);
            if (!isTrusted(hop)) {
                return isAddress(hop) ? hop : peer; // a malformed hop: do not let it choose a bucket
            }
        }
        return hops.isEmpty() ? peer : hops.getFirst();
    }

    /** True when {@code address} (a direct peer) is one of the trusted proxies. */
    public boolean isTrustedProxy(String address) {
        return !trusted.isEmpty() && isTrusted(address);
    }

    private boolean isTrusted(String address) {
        if (!isAddress(address)) {
            return false;
        }
        var socket = new InetSocketAddress(literal(address), 0);
        return trusted.stream().anyMatch(rule -> rule.matches(socket));
    }

    private static boolean isAddress(String text) {
        return NetUtil.isValidIpV4Address(bare(text)) || NetUtil.isValidIpV6Address(bare(text));
    }

    /** An IP literal, never a host name (no DNS lookups here). */
    private static InetAddress literal(String text) {
        InetAddress address = NetUtil.createInetAddressFromIpAddressString(bare(text));
        if (address == null) {
            throw new IllegalArgumentException("not an IP literal: " + text);
        }
        return address;
    }

    private static String bare(String text) {
        return text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    }
}
