package dev.tollgate.testkit.net;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP proxy on 127.0.0.1 that can partition the network between its clients and its target, for
 * fault tests: unlike a stopped server, a partition refuses nothing and closes nothing, the bytes just
 * never arrive, so clients hang until their own timeouts. {@link #partition} drops every byte in one
 * or both directions, on open connections and on those accepted meanwhile; {@link #heal} resets the
 * connections that lost bytes (their streams are broken) and forwards again. {@link Cut#HOLD} is the
 * partition TCP itself rides out: bytes wait (as the kernel retransmits them) and arrive, in order,
 * after the heal, so connections that outlived it carry on where they stopped.
 * {@link #strandOpenConnections} is the failover case: the connections open now go silent for ever
 * (their server vanished without a reset), new ones get through (to its replacement).
 */
public final class TcpProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TcpProxy.class);

    /** Which bytes a partition drops. */
    public enum Cut {
        /** Nothing gets through either way. */
        BOTH,
        /** Requests reach the target, its answers never come back: the case where a client retries what was done. */
        RESPONSES,
        /**
         * Nothing gets through either way, and nothing is lost: each direction stops reading at its next
         * bytes and forwards them after {@link #heal}. A client whose own timeout fired meanwhile has
         * closed its connection; one that waited finds it whole.
         */
        HOLD
    }

    private final ServerSocket server;
    private final int targetPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile Cut cut;
    /** Open while {@link Cut#HOLD} lasts: the pumps wait on it. */
    private volatile CountDownLatch held = new CountDownLatch(0);
    private volatile boolean closed;

    private TcpProxy(ServerSocket server, int targetPort) {
        this.server = server;
        this.targetPort = targetPort;
    }

    /** Proxies a free port of 127.0.0.1 to {@code 127.0.0.1:targetPort}. */
    public static TcpProxy start(int targetPort) {
        return start(0, targetPort);
    }

    /** Proxies {@code 127.0.0.1:port} (0 for a free one) to {@code 127.0.0.1:targetPort}. */
    public static TcpProxy start(int port, int targetPort) {
        try {
            var server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            var proxy = new TcpProxy(server, targetPort);
            Thread.ofVirtual().name("tcp-proxy-accept-" + server.getLocalPort()).start(proxy::acceptLoop);
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:port} for a client's configuration. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    /** From now on the bytes {@code cut} names are dropped, silently. */
    public void partition(Cut cut) {
        LOG.info("tcp proxy {}: partition ({})", port(), cut);
        if (cut == Cut.HOLD && this.cut != Cut.HOLD) {
            held = new CountDownLatch(1);
        }
        this.cut = cut;
    }

    /** Forwards again; every connection that lost bytes is reset, as its peers would find out. */
    public void heal() {
        LOG.info("tcp proxy {}: healed, resetting {} broken connections", port(), links.stream().filter(l -> l.broken && !l.stranded).count());
        cut = null;
        held.countDown();
        links.stream().filter(link -> link.broken && !link.stranded).forEach(Link::close);
    }

    /**
     * Every connection open now drops all its bytes from now on and is never closed by the proxy (a
     * server gone without a reset: only the client's own timeouts get it out); new connections are
     * forwarded as usual. Returns how many were stranded.
     */
    public int strandOpenConnections() {
        int count = 0;
        for (Link link : links) {
            link.stranded = true;
            count++;
        }
        LOG.info("tcp proxy {}: {} open connections stranded", port(), count);
        return count;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                var link = new Link(client, target);
                link.broken = cut != null;
                links.add(link);
                Thread.ofVirtual().start(() -> link.pump(client, target, false));
                Thread.ofVirtual().start(() -> link.pump(target, client, true));
            } catch (IOException e) {
                if (!closed) {
                    LOG.debug("tcp proxy {}: {}", port(), e.toString());
                }
            }
        }
    }

    /** One proxied connection. */
    private final class Link {
        private final Socket client;
        private final Socket target;
        volatile boolean broken;
        volatile boolean stranded;

        Link(Socket client, Socket target) {
            this.client = client;
            this.target = target;
        }

        void pump(Socket from, Socket to, boolean response) {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    Cut now = cut;
                    if (now == Cut.HOLD && !stranded) {
                        held.await();
                        now = cut;
                    }
                    if (stranded || now == Cut.BOTH || (now == Cut.RESPONSES && response)) {
                        broken = true; // dropped: this stream can never be whole again
                        continue;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed or reset: close both
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                close();
            }
        }

        void close() {
            links.remove(this);
            try {
                client.setSoLinger(true, 0); // a reset, as after a partition, not a polite close
                client.close();
            } catch (IOException ignored) {
                // already closed
            }
            try {
                target.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        held.countDown();
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        links.forEach(Link::close);
    }
}
