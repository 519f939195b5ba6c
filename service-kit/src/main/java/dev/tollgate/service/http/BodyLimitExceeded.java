package dev.tollgate.service.http;

import org.springframework.http.HttpStatus;

import java.io.IOException;

/**
 * Thrown by a request body's stream when the body breaks a limit of {@link BoundedBodyFilter}: too
 * large (413), too slow (408), or one slow body too many (408). An {@link IOException}, so that
 * whatever was reading the body stops; the API's problem handler answers with {@link #status()}.
 */
public final class BodyLimitExceeded extends IOException {
    private final HttpStatus status;
    private final String code;

    BodyLimitExceeded(HttpStatus status, String code, String detail) {
        super(detail);
        this.status = status;
        this.code = code;
    }

    public HttpStatus status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** The limit that {@code failure}, or one of its causes, reports; null if none. */
    public static BodyLimitExceeded in(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof BodyLimitExceeded limit) {
                return limit;
            }
        }
        return null;
    }
}
