package dev.tollgate.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Free ports on this machine, for services whose port others must know before they start. */
final class LocalPorts {
    private LocalPorts() {}

    /** A port that was free a moment ago (the caller binds it at once). */
    static int free() {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    /** {@code port}, or a free one for 0. */
    static int orFree(int port) {
        return port == 0 ? free() : port;
    }
}
