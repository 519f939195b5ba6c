package dev.tollgate.service.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.service.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * Bounds what one request body may cost the admin and billing APIs (issue #19 item 6), before any
 * other filter reads it: at most {@code maxBytes} (a declared {@code Content-Length} above it is
 * answered 413 without reading a byte; a chunked body is cut off there), read completely within
 * {@code deadline} of its first read (else 408), and at most {@code maxSlowBodies} bodies at a time
 * may be still arriving when they are first read (a body not yet in the server's buffer whole: the
 * next one is answered 408 at once), so that slow senders can never hold every worker thread while
 * bodies that came with their request, as nearly all API bodies do, never wait for a slot. What happens to the unread rest of a refused
 * body is {@link UnreadBodyValve}'s business: the connection is closed, not drained.
 */
public final class BoundedBodyFilter extends OncePerRequestFilter {
    private final ObjectMapper mapper;
    private final long maxBytes;
    private final long deadlineNanos;
    private final Semaphore slowBodies;

    public BoundedBodyFilter(ObjectMapper mapper, long maxBytes, Duration deadline, int maxSlowBodies) {
        this.mapper = mapper;
        this.maxBytes = maxBytes;
        this.deadlineNanos = deadline.toNanos();
        this.slowBodies = new Semaphore(maxSlowBodies);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() > maxBytes) {
            refuse(response, tooLarge());
            return;
        }
        var bounded = new BoundedRequest(request, request.getContentLengthLong());
        try {
            chain.doFilter(bounded, response);
        } catch (IOException | ServletException | RuntimeException e) {
            BodyLimitExceeded limit = BodyLimitExceeded.in(e);
            if (limit == null || response.isCommitted()) {
                throw e;
            }
            response.reset();
            refuse(response, limit);
        } finally {
            bounded.release();
        }
    }

    private void refuse(HttpServletResponse response, BodyLimitExceeded limit) throws IOException {
        Problems.write(response, mapper, limit.status(), limit.code(), limit.getMessage());
    }

    private BodyLimitExceeded tooLarge() {
        return new BodyLimitExceeded(HttpStatus.PAYLOAD_TOO_LARGE, "body_too_large",
                "request bodies are limited to " + maxBytes + " bytes");
    }

    /** The request with its body stream bounded. */
    private final class BoundedRequest extends HttpServletRequestWrapper {
        private final long declaredLength;
        private BoundedStream stream;

        BoundedRequest(HttpServletRequest request, long declaredLength) {
            super(request);
            this.declaredLength = declaredLength;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new BoundedStream(super.getInputStream(), declaredLength);
            }
            return stream;
        }

        void release() {
            if (stream != null) {
                stream.release();
            }
        }
    }

    /** Counts bytes and time on every read. */
    private final class BoundedStream extends ServletInputStream {
        private final ServletInputStream body;
        private final long declaredLength;
        private long started = -1;
        private long read;
        private boolean slow;

        BoundedStream(ServletInputStream body, long declaredLength) {
            this.body = body;
            this.declaredLength = declaredLength;
        }

        private void beforeRead() throws IOException {
            long now = System.nanoTime();
            if (started < 0) {
                started = now;
                // Still arriving (or chunked, of unknown length): it takes a slot until it is read whole.
                if ((declaredLength < 0 || body.available() < declaredLength) && !body.isFinished()) {
                    if (!slowBodies.tryAcquire()) {
                        throw new BodyLimitExceeded(HttpStatus.REQUEST_TIMEOUT, "body_too_slow",
                                "too many request bodies are arriving slowly; send the body with the request");
                    }
                    slow = true;
                }
                return;
            }
            if (now - started > deadlineNanos) {
                throw new BodyLimitExceeded(HttpStatus.REQUEST_TIMEOUT, "body_too_slow",
                        "the request body did not arrive within " + Duration.ofNanos(deadlineNanos).toSeconds() + " s");
            }
        }

        private int afterRead(int n) throws BodyLimitExceeded {
            if (n < 0 || (declaredLength >= 0 && read + Math.max(0, n) >= declaredLength)) {
                release(); // read whole: the slot is free for the next body
            }
            if (n > 0) {
                read += n;
                if (read > maxBytes) {
                    throw tooLarge();
                }
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            beforeRead();
            int b;
            try {
                b = body.read();
            } catch (IOException e) {
                throw timedOut(e);
            }
            afterRead(b < 0 ? -1 : 1);
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            beforeRead();
            try {
                return afterRead(body.read(buffer, offset, length));
            } catch (BodyLimitExceeded e) {
                throw e;
            } catch (IOException e) {
                throw timedOut(e);
            }
        }

        /** A read that waited longer than the read timeout is a body too slow (408), not a failure of the server. */
        private IOException timedOut(IOException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof SocketTimeoutException) {
                    return new BodyLimitExceeded(HttpStatus.REQUEST_TIMEOUT, "body_too_slow", "the request body stopped arriving");
                }
            }
            return e;
        }

        @Override
        public boolean isFinished() {
            return body.isFinished();
        }

        @Override
        public boolean isReady() {
            return body.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            body.setReadListener(listener);
        }

        void release() {
            if (slow) {
                slow = false;
                slowBodies.release();
            }
        }
    }
}
