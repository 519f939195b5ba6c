package dev.tollgate.testkit.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The proxy's partitions against an echo server: what a client on either side of the cut sees. */
class TcpProxyTest {
    private ServerSocket echo;

    @BeforeEach
    void startEcho() throws IOException {
        echo = new ServerSocket();
        echo.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().start(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket socket = echo.accept();
                    Thread.ofVirtual().start(() -> {
                        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void stopEcho() throws IOException {
        echo.close();
    }

    @Test
    void aHeldPartitionDeliversEverythingInOrderAfterTheHealOnTheSameConnection() throws IOException {
        try (TcpProxy proxy = TcpProxy.start(echo.getLocalPort()); Socket client = connect(proxy)) {
            assertEchoed(client, "before;");

            proxy.partition(TcpProxy.Cut.HOLD);
            send(client, "during-1;");
            send(client, "during-2;");
            assertThatThrownBy(() -> read(client, 1)).as("nothing gets through a partition").isInstanceOf(SocketTimeoutException.class);

            proxy.heal();
            assertThat(read(client, 18)).isEqualTo("during-1;during-2;");
            assertEchoed(client, "after;");
        }
    }

    @Test
    void aDroppingPartitionLosesTheBytesAndTheHealResetsTheConnection() throws IOException {
        try (TcpProxy proxy = TcpProxy.start(echo.getLocalPort()); Socket client = connect(proxy)) {
            assertEchoed(client, "before;");

            proxy.partition(TcpProxy.Cut.BOTH);
            send(client, "lost;");
            assertThatThrownBy(() -> read(client, 1)).isInstanceOf(SocketTimeoutException.class);

            proxy.heal();
            assertThatThrownBy(() -> {
                send(client, "after;");
                read(client, 6);
            }).as("a stream that lost bytes is reset, never resumed").isInstanceOf(IOException.class)
                    .isNotInstanceOf(SocketTimeoutException.class);
        }
    }

    private static Socket connect(TcpProxy proxy) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout(500);
        return socket;
    }

    private static void assertEchoed(Socket socket, String text) throws IOException {
        send(socket, text);
        assertThat(read(socket, text.length())).isEqualTo(text);
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    private static String read(Socket socket, int length) throws IOException {
        byte[] bytes = socket.getInputStream().readNBytes(length);
        if (bytes.length < length) {
            throw new IOException("closed after " + bytes.length + " of " + length + " bytes");
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
