package dev.tollgate.service.webhook;

import org.springframework.security.web.util.matcher.IpAddressMatcher;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Addresses a webhook may never reach: every block of the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries, multicast, and IPv6 outside global unicast ({@code 2000::/3}). IPv6 forms that embed an
 * IPv4 address are decoded and the IPv4 address judged instead: IPv4-mapped ({@code ::ffff:0:0/96}),
 * IPv4-translated ({@code ::ffff:0:0:0/96}, RFC 2765), the NAT64 well-known prefix
 * ({@code 64:ff9b::/96}, RFC 6052) and 6to4 ({@code 2002::/16}, RFC 3056); the deprecated
 * IPv4-compatible form ({@code ::/96}, RFC 4291 §2.5.5.1) is refused whatever it embeds.
 * <p>
 * Sources (checked 2026-12-02): https://www.iana.org/assignments/iana-ipv4-special-registry/ (last
 * updated 2024-11), https://www.iana.org/assignments/iana-ipv6-special-registry/ (last updated
 * 2025-03), https://www.iana.org/assignments/multicast-addresses/. Blocks the registry marks globally
 * reachable (AS112, AMT, parts of {@code 2001::/23}) are refused too: no webhook receiver lives there.
 */
public final class SpecialPurposeAddresses {
    private SpecialPurposeAddresses() {}

    /** One registry entry. */
    private record Block(IpAddressMatcher matcher, String cidr, String name, String source) {
        Block(String cidr, String name, String source) {
            this(new IpAddressMatcher(cidr), cidr, name, source);
        }

        boolean contains(InetAddress address) {
            return matcher.matches(address.getHostAddress());
        }
    }

    private static final List<Block> IPV4 = List.of(
            new Block("0.0.0.0/8", "\"this network\"", "RFC 791"),
            new Block("10.0.0.0/8", "private-use", "RFC 1918"),
            new Block("100.64.0.0/10", "shared address space (CGNAT)", "RFC 6598"),
            new Block("127.0.0.0/8", "loopback", "RFC 1122"),
            new Block("169.254.0.0/16", "link-local (cloud metadata services)", "RFC 3927"),
            new Block("172.16.0.0/12", "private-use", "RFC 1918"),
            new Block("192.0.0.0/24", "IETF protocol assignments", "RFC 6890"),
            new Block("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
            new Block("192.31.196.0/24", "AS112-v4", "RFC 7535"),
            new Block("192.52.193.0/24", "AMT", "RFC 7450"),
            new Block("192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
            new Block("192.168.0.0/16", "private-use", "RFC 1918"),
            new Block("192.175.48.0/24", "direct delegation AS112 service", "RFC 7534"),
            new Block("198.18.0.0/15", "benchmarking", "RFC 2544"),
            new Block("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
            new Block("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
            new Block("224.0.0.0/4", "multicast", "RFC 5771"),
            new Block("240.0.0.0/4", "reserved", "RFC 1112"),
            new Block("255.255.255.255/32", "limited broadcast", "RFC 8190"));

    private static final List<Block> IPV6 = List.of(
            new Block("::1/128", "loopback", "RFC 4291"),
            new Block("::/128", "unspecified", "RFC 4291"),
            new Block("64:ff9b:1::/48", "IPv4-IPv6 translation, local use", "RFC 8215"),
            new Block("100::/64", "discard-only", "RFC 6666"),
            new Block("100:0:0:1::/64", "dummy prefix", "RFC 9780"),
            new Block("2001::/23", "IETF protocol assignments (Teredo, ORCHID, benchmarking, ...)", "RFC 2928"),
            new Block("2001:db8::/32", "documentation", "RFC 3849"),
            new Block("2620:4f:8000::/48", "direct delegation AS112 service", "RFC 7534"),
            new Block("3fff::/20", "documentation", "RFC 9637"),
            new Block("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
            new Block("fc00::/7", "unique-local", "RFC 4193"),
            new Block("fe80::/10", "link-local", "RFC 4291"),
            new Block("ff00::/8", "multicast", "RFC 4291"));

    private static final IpAddressMatcher GLOBAL_UNICAST = new IpAddressMatcher("2000::/3");

    /** Why {@code address} may not be called, or null if it is an ordinary public address. */
    public static String refusal(InetAddress address) {
        if (address instanceof Inet4Address) {
            return IPV4.stream().filter(block -> block.contains(address)).findFirst()
                    .map(block -> address.getHostAddress() + " is " + block.name() + " (" + block.cidr() + ", " + block.source() + ")")
                    .orElse(null);
        }
        for (Block block : IPV6) {
            if (block.contains(address)) {
                return address.getHostAddress() + " is " + block.name() + " (" + block.cidr() + ", " + block.source() + ")";
            }
        }
        byte[] bytes = address.getAddress();
        if (isZero(bytes, 0, 12)) {
            return address.getHostAddress() + " is a deprecated IPv4-compatible IPv6 address (embeds " + embedded(bytes, 12) + ")";
        }
        Inet4Address embedded = null;
        if (isZero(bytes, 0, 10) && (bytes[10] & 0xff) == 0xff && (bytes[11] & 0xff) == 0xff) {
            embedded = embedded(bytes, 12); // ::ffff:a.b.c.d
        } else if (isZero(bytes, 0, 8) && (bytes[8] & 0xff) == 0xff && (bytes[9] & 0xff) == 0xff && isZero(bytes, 10, 12)) {
            embedded = embedded(bytes, 12); // ::ffff:0:a.b.c.d
        } else if (startsWith(bytes, 0x00, 0x64, 0xff, 0x9b) && isZero(bytes, 4, 12)) {
            embedded = embedded(bytes, 12); // 64:ff9b::a.b.c.d
        } else if (startsWith(bytes, 0x20, 0x02)) {
            embedded = embedded(bytes, 2); // 2002:aabb:ccdd::
        }
        if (embedded != null) {
            String inner = refusal(embedded);
            return inner == null ? null : address.getHostAddress() + " embeds " + inner;
        }
        if (!GLOBAL_UNICAST.matches(address.getHostAddress())) {
            return address.getHostAddress() + " is not an IPv6 global unicast address (2000::/3)";
        }
        return null;
    }

    private static boolean isZero(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] bytes, int... prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if ((bytes[i] & 0xff) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static Inet4Address embedded(byte[] bytes, int offset) {
        try {
            return (Inet4Address) InetAddress.getByAddress(Arrays.copyOfRange(bytes, offset, offset + 4));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }
}
