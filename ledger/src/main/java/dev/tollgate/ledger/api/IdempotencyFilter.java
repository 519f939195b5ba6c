package dev.tollgate.ledger.api;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tollgate.service.Problems;
import dev.tollgate.service.security.Caller;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ContentCachingResponseWrapper;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Honours {@code Idempotency-Key} on every POST of the admin API: the first request with a key runs
 * and its response is stored; a retry with the same key and body gets the stored response again
 * (header {@code Idempotent-Replayed: true}) without running twice; the same key with a different
 * body is 422; a retry while the first is still running is 409 {@code request_in_progress}. Keys are
 * per caller and kept 24 h. A 5xx frees the key for a retry; but when the ledger died mid-request, or
 * its database went away so that even freeing failed, the claim stays without a response: after
 * {@link #ABANDONED_AFTER} a retry gets 409 {@code request_outcome_unknown} (the first may or may not
 * have taken effect; running it again could do it twice), never "in progress" for a day.
 * A stored response never holds an API key secret: it is replaced by {@code "apiKey": null} and
 * {@code "apiKeyShownOnce": true}, because secrets are shown exactly once and stored only hashed.
 */
@Component
public class IdempotencyFilter extends OncePerRequestFilter {
    static final String HEADER = "Idempotency-Key";
    private static final int MAX_KEY_LENGTH = 200;
    /** Longer than any request can run: its statements are bounded by the 30 s socket timeout (ADR 0016). */
    static final Duration ABANDONED_AFTER = Duration.ofMinutes(2);

    private final JdbcTemplate jdbc;
    private final ObjectMapper mapper;

    public IdempotencyFilter(JdbcTemplate jdbc, ObjectMapper mapper) {
        this.jdbc = jdbc;
        this.mapper = mapper;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !"POST".equals(request.getMethod()) || request.getHeader(HEADER) == null
                || !request.getRequestURI().startsWith("/admin/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Authentication auth = SecurityContextHolder.getContext().getAuthentication();
        String key = request.getHeader(HEADER);
        if (auth == null || !auth.isAuthenticated()) {
            chain.doFilter(request, response);
            return;
        }
        if (key.isBlank() || key.length() > MAX_KEY_LENGTH) {
            Problems.write(response, mapper, HttpStatus.BAD_REQUEST, "invalid_idempotency_key", "Idempotency-Key must be 1-" + MAX_KEY_LENGTH + " characters");
            return;
        }
        byte[] body = request.getInputStream().readAllBytes(); // bounded in size and time by BoundedBodyFilter
        String subject = owner(auth);
        String hash = sha256(request.getMethod() + " " + request.getRequestURI() + "\n", body);
        int claimed = jdbc.update("INSERT INTO idempotency_record (subject, idem_key, request_hash) VALUES (?, ?, ?) "
                + "ON CONFLICT (subject, idem_key) DO NOTHING", subject, key, hash);
        if (claimed == 0) {
            replay(response, subject, key, hash);
            return;
        }
        var wrappedRequest = new CachedBodyRequest(request, body);
        var wrappedResponse = new ContentCachingResponseWrapper(response);
        boolean stored = false;
        try {
            chain.doFilter(wrappedRequest, wrappedResponse);
            int status = wrappedResponse.getStatus();
            if (status < 500) {
                byte[] toStore = Boolean.TRUE.equals(request.getAttribute(KeyController.SECRET_IN_RESPONSE))
                        ? redactSecret(wrappedResponse.getContentAsByteArray()) : wrappedResponse.getContentAsByteArray();
                jdbc.update("UPDATE idempotency_record SET status = ?, content_type = ?, response_body = ? WHERE subject = ? AND idem_key = ?",
                        status, wrappedResponse.getContentType(), toStore, subject, key);
                stored = true;
            }
        } finally {
            if (!stored) {
                // A server error or crash must not pin the key: the client may retry.
                jdbc.update("DELETE FROM idempotency_record WHERE subject = ? AND idem_key = ?", subject, key);
            }
            wrappedResponse.copyBodyToResponse();
        }
    }

    /**
     * Whose records these are: the caller's subject together with its tenant and roles, hashed. A replay
     * goes only to the identity that made the request; the same subject with another tenant or other
     * roles has its own keys, and its request runs (and is authorized) anew (issue #19 item 10).
     */
    static String owner(Authentication auth) {
        String identity = auth.getName();
        if (auth.getPrincipal() instanceof Jwt jwt) {
            Caller caller = Caller.of(jwt);
            identity = caller.subject() + "\n" + caller.tenant() + "\n" + new TreeSet<>(caller.roles());
        }
        return "caller:" + sha256("", identity.getBytes(StandardCharsets.UTF_8));
    }

    private void replay(HttpServletResponse response, String subject, String key, String hash) throws IOException {
        List<Map<String, Object>> rows = jdbc.queryForList(
                "SELECT request_hash, status, content_type, response_body, created_at < now() - make_interval(secs => ?) AS abandoned "
                        + "FROM idempotency_record WHERE subject = ? AND idem_key = ?",
                ABANDONED_AFTER.toSeconds(), subject, key);
        if (rows.isEmpty()) {
            Problems.write(response, mapper, HttpStatus.CONFLICT, "request_in_progress", "a request with this Idempotency-Key just failed; retry");
            return;
        }
        Map<String, Object> row = rows.getFirst();
        if (!hash.equals(row.get("request_hash"))) {
            Problems.write(response, mapper, HttpStatus.UNPROCESSABLE_ENTITY, "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request");
            return;
        }
        if (row.get("status") == null && Boolean.TRUE.equals(row.get("abandoned"))) {
            Problems.write(response, mapper, HttpStatus.CONFLICT, "request_outcome_unknown",
                    "the request first sent with this Idempotency-Key was interrupted (the service or its database failed) and may or "
                            + "may not have taken effect; check the resource, then retry with a new Idempotency-Key");
            return;
        }
        if (row.get("status") == null) {
            Problems.write(response, mapper, HttpStatus.CONFLICT, "request_in_progress", "a request with this Idempotency-Key is still being processed");
            return;
        }
        response.setStatus((Integer) row.get("status"));
        response.setHeader("Idempotent-Replayed", "true");
        if (row.get("content_type") != null) {
            response.setContentType((String) row.get("content_type"));
        }
        byte[] stored = (byte[]) row.get("response_body");
        if (stored != null) {
            response.getOutputStream().write(stored);
        }
    }

    private byte[] redactSecret(byte[] json) {
        try {
            JsonNode node = mapper.readTree(json);
            if (node instanceof ObjectNode object && object.has("apiKey")) {
                object.putNull("apiKey");
                object.put("apiKeyShownOnce", true);
            }
            return mapper.writeValueAsBytes(node);
        } catch (IOException e) {
            return new byte[0];
        }
    }


    /** Keys are kept for 24 hours. */
    @Scheduled(fixedDelayString = "PT10M")
    public void expire() {
        jdbc.update("DELETE FROM idempotency_record WHERE created_at < now() - interval '24 hours'");
    }

    private static String sha256(String prefix, byte[] body) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(prefix.getBytes(StandardCharsets.UTF_8));
            digest.update(body);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A request whose body was read already, served again to the controller. */
    private static final class CachedBodyRequest extends HttpServletRequestWrapper {
        private final byte[] body;

        CachedBodyRequest(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            var in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
        }
    }
}
