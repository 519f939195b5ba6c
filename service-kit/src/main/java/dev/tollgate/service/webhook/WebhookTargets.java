package dev.tollgate.service.webhook;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a tenant's webhook may point (SSRF protection), the one rule the ledger (when a URL is
 * configured) and the billing service (at each delivery) both apply: http(s) only, no credentials
 * in the URL, no special-use name ({@code localhost}, {@code .local}, {@code .internal}, ...), no
 * numeric host other than a dotted-quad IPv4 address ({@code 0x7f000001}, {@code 2130706433} and
 * {@code 127.1} mean loopback to many clients), and no address in the special-purpose registries
 * ({@link SpecialPurposeAddresses}), unless the operator allows private targets. A name is judged
 * by what it resolves to at delivery, once ({@link #vettedAddresses}): the sender connects to those
 * addresses and no other, so a name that answers a public address to the check and a loopback one to
 * the connection (DNS rebinding) cannot reach inside.
 */
public final class WebhookTargets {
    private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+|0x[0-9a-f]*");
    private static final Pattern DOTTED_QUAD = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    /** Special-use names (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal) that never name a public receiver. */
    private static final String[] SPECIAL_USE_NAMES = {"localhost", "local", "internal", "home.arpa", "invalid", "test"};

    private WebhookTargets() {}

    /** Resolves a host name to its addresses ({@link InetAddress#getAllByName} outside tests). */
    @FunctionalInterface
    public interface HostResolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** A host that resolves to an address a webhook may not reach; an {@link UnknownHostException}, so no connection is tried. */
    public static final class RefusedTarget extends UnknownHostException {
        public RefusedTarget(String reason) {
            super(reason);
        }
    }

    /**
     * Why {@code url} may not be a webhook, or null. Names are not resolved here (the sender's DNS may
     * differ from the ledger's, and may change): IP literals and special-use names are judged.
     */
    public static String refusal(String url, boolean allowPrivate) {
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
        return allowPrivate ? null : hostRefusal(uri.getHost());
    }

    /** Why {@code host} (a URL's host: a name, a dotted quad or a bracketed IPv6 literal) may not be called, or null. */
    static String hostRefusal(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.startsWith("[")) {
            if (name.contains("%")) {
                return "IPv6 literals with a zone are not allowed";
            }
            return literalRefusal(name);
        }
        String lastLabel = name.substring(name.lastIndexOf('.') + 1);
        if (NUMERIC_LABEL.matcher(lastLabel).matches()) {
            return DOTTED_QUAD.matcher(name).matches() ? literalRefusal(name)
                    : "a numeric host must be a dotted-quad IPv4 address (" + truncated(host) + " is read as an address by many clients)";
        }
        for (String special : SPECIAL_USE_NAMES) {
            if (name.equals(special) || name.endsWith("." + special)) {
                return "." + special + " names are special-use and never public";
            }
        }
        return null;
    }

    private static String literalRefusal(String literal) {
        try {
            return SpecialPurposeAddresses.refusal(InetAddress.getByName(literal)); // a literal: no DNS query
        } catch (UnknownHostException e) {
            return "not a valid IP address";
        }
    }

    /**
     * Resolves {@code host} once and returns its addresses if every one of them may be called; the
     * caller connects to these and no other. Throws {@link RefusedTarget} naming the first address
     * that may not be called.
     */
    public static InetAddress[] vettedAddresses(String host, HostResolver resolver) throws UnknownHostException {
        String refused = hostRefusal(host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host);
        if (refused != null) {
            throw new RefusedTarget(refused);
        }
        InetAddress[] addresses = resolver.resolve(host);
        for (InetAddress address : addresses) {
            String reason = SpecialPurposeAddresses.refusal(address);
            if (reason != null) {
                throw new RefusedTarget("the host resolves to a special-purpose address: " + reason);
            }
        }
        return addresses;
    }

    private static String truncated(String value) {
        return value.length() > 64 ? value.substring(0, 64) + "…" : value;
    }
}
