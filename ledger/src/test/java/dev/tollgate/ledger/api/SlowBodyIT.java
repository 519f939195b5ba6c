package dev.tollgate.ledger.api;

import dev.tollgate.ledger.support.LedgerTestSupport;
import dev.tollgate.testkit.http.SlowSenders;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Slow and oversized request bodies cannot take the admin API down (issue #19 item 6): the same
 * guard ({@code RequestBodyLimits} in the service kit) protects the billing API.
 */
class SlowBodyIT extends LedgerTestSupport {
    private static final int ATTACKERS = 230;

    @DynamicPropertySource
    static void limits(DynamicPropertyRegistry registry) {
        registry.add("tollgate.http.body-deadline", () -> "3s");
        registry.add("tollgate.http.max-slow-bodies", () -> "4");
    }

    private Socket open() throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static void sendHead(Socket socket, String token, long contentLength) throws IOException {
        String head = "POST /admin/v1/tenants HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + "Content-Length: " + contentLength + "\r\n\r\n";
        socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    /** What the server sent until it closed the connection (or {@code null} if it did not close it in time). */
    private static String readUntilClosed(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        var answer = new StringBuilder();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                answer.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (SocketTimeoutException e) {
            return null;
        } catch (IOException e) {
            // reset after the answer: the rest of the body was not read, as intended
        }
        return answer.toString();
    }

    @Test
    void twoHundredSlowUnauthenticatedPostsLeaveTheApiAnsweringWithinOneSecond() throws Exception {
        String plan = newTenantId("slow-plan");
        String admin = platformAdmin();
        assertThat(call("PUT", "/admin/v1/plans/" + plan, admin, "{\"name\":\"Slow\"}").statusCode()).isEqualTo(200);
        String tenant = newTenantId("slow");
        assertThat(call("POST", "/admin/v1/tenants", admin, "{\"tenantId\":\"" + tenant + "\",\"name\":\"Slow\",\"billingTimeZone\":\"UTC\","
                + "\"currency\":\"USD\",\"planId\":\"" + plan + "\"}").statusCode()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(10)).until(() -> call("GET", "/admin/v1/tenants/" + tenant, admin, null).statusCode() == 200);
        String head = "POST /admin/v1/tenants HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
        try (SlowSenders attackers = SlowSenders.open(port, ATTACKERS, head)) {
            long slowest = attackers.drip(8, () -> assertThat(call("GET", "/admin/v1/tenants/" + tenant, admin, null).statusCode())
                    .isEqualTo(200));
            assertThat(slowest).as("slowest authenticated GET during the attack, ms").isLessThan(1_000);
            assertThat(attackers.answers(12)).as("each attacker got its 401").allMatch(answer -> answer.equals("HTTP/1.1 401"));
        }
    }

    @Test
    void aBodyOverTheLimitIsRefused413WithOrWithoutAnIdempotencyKey() throws Exception {
        String big = "{\"tenantId\":\"" + "x".repeat(1_100_000) + "\"}";
        HttpResponse<String> declared = call("POST", "/admin/v1/tenants", platformAdmin(), big);
        assertThat(declared.statusCode()).isEqualTo(413);
        assertThat(declared.headers().firstValue("content-type")).hasValue("application/problem+json");
        assertThat(declared.body()).contains("\"code\":\"body_too_large\"");
        HttpResponse<String> withKey = call("POST", "/admin/v1/tenants", platformAdmin(), big, Map.of("Idempotency-Key", "big-1"));
        assertThat(withKey.statusCode()).isEqualTo(413);

        // Chunked, so no Content-Length to refuse up front: cut off at the limit.
        try (Socket socket = open()) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /admin/v1/tenants HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\nAuthorization: Bearer "
                    + platformAdmin() + "\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write("b\r\n{\"name\":\"xx\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try {
                for (int i = 0; i < 40; i++) { // 2.5 MiB
                    out.write(chunk);
                }
            } catch (IOException closedByTheServer) {
                // expected once the server has answered
            }
            assertThat(readUntilClosed(socket)).startsWith("HTTP/1.1 413");
        }
    }

    @Test
    void anAuthenticatedBodyThatArrivesTooSlowlyIsCutAtTheDeadlineAndFewMayBeSlowAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                answers.add(pool.submit(() -> {
                    try (Socket socket = open()) {
                        sendHead(socket, platformAdmin(), 100);
                        OutputStream out = socket.getOutputStream();
                        long started = System.nanoTime();
                        try {
                            for (int second = 0; second < 20; second++) {
                                out.write(' ');
                                out.flush();
                                Thread.sleep(500);
                            }
                        } catch (IOException closedByTheServer) {
                            // expected
                        }
                        String answer = readUntilClosed(socket);
                        long seconds = (System.nanoTime() - started) / 1_000_000_000;
                        return (answer == null ? "open" : answer.substring(0, Math.min(12, answer.length()))) + " after " + seconds + " s";
                    }
                }));
            }
            int early = 0;
            for (Future<String> answer : answers) {
                String outcome = answer.get();
                assertThat(outcome).startsWith("HTTP/1.1 408");
                long seconds = Long.parseLong(outcome.replaceAll(".* after (\\d+) s", "$1"));
                assertThat(seconds).as(outcome).isLessThanOrEqualTo(3 + 5 + 1); // deadline + one read timeout + slack
                if (seconds < 3) {
                    early++;
                }
            }
            assertThat(early).as("slow bodies beyond the 4 allowed at once are refused before the deadline").isGreaterThanOrEqualTo(6);
        } finally {
            pool.shutdownNow();
        }
    }
}
