package dev.tollgate.testkit.http;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A slow-body attack for tests (R.U.D.Y.): many connections that each send a request head declaring
 * a body, then one byte of it a second, while the test checks that the server still answers others.
 */
public final class SlowSenders implements AutoCloseable {
    private final List<Socket> sockets = new ArrayList<>();

    private SlowSenders() {}

    /** Opens {@code count} connections to {@code port} on loopback and sends each {@code head} (request line, headers, blank line). */
    public static SlowSenders open(int port, int count, String head) throws IOException {
        var senders = new SlowSenders();
        try {
            for (int i = 0; i < count; i++) {
                Socket socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(20_000);
                socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                senders.sockets.add(socket);
            }
        } catch (IOException e) {
            senders.close();
            throw e;
        }
        return senders;
    }

    /**
     * For {@code seconds} rounds: one byte to every connection the server has not closed, then
     * {@code probe}, timed, then a pause to the next second.
     *
     * @return the slowest probe, in milliseconds
     */
    public long drip(int seconds, Callable<?> probe) throws Exception {
        long slowest = 0;
        for (int second = 0; second < seconds; second++) {
            for (Socket socket : sockets) {
                try {
                    socket.getOutputStream().write('{');
                } catch (IOException closedByTheServer) {
                    // the server stopped reading this one: what a guarded server does
                }
            }
            long started = System.nanoTime();
            probe.call();
            slowest = Math.max(slowest, (System.nanoTime() - started) / 1_000_000);
            Thread.sleep(1_000);
        }
        return slowest;
    }

    /** What the server answered on each connection: the first {@code bytes} bytes (fewer if it closed sooner). */
    public List<String> answers(int bytes) throws IOException {
        var answers = new ArrayList<String>();
        for (Socket socket : sockets) {
            String answer;
            try {
                answer = new String(socket.getInputStream().readNBytes(bytes), StandardCharsets.ISO_8859_1);
            } catch (IOException resetAfterTheAnswer) {
                answer = "";
            }
            answers.add(answer);
        }
        return answers;
    }

    @Override
    public void close() {
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
