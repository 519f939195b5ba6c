package dev.tollgate.service;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.transaction.TransactionException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import java.sql.SQLException;

/**
 * What the admin and billing APIs answer when nothing more specific applies, still as RFC 9457
 * problem details: the database unreachable (PostgreSQL restarting) is a 503 with
 * {@code Retry-After}, anything else a 500 that says nothing about the internals (the log has the
 * stack trace). Each service's own handler runs first ({@code @Order(0)}); security exceptions and
 * Spring's own {@link ErrorResponse}s go on to the handlers meant for them.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
public class ProblemFallback {
    private static final Logger LOG = LoggerFactory.getLogger(ProblemFallback.class);

    /** True when {@code e} or one of its causes says the database could not be reached or used (JDBC, Spring, Axon's wrappers). */
    public static boolean isStoreUnavailable(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof DataAccessException || cause instanceof TransactionException || cause instanceof SQLException) {
                return true;
            }
        }
        return false;
    }

    /** The answer while the database is unavailable: 503, retry in a few seconds. */
    public static ResponseEntity<ProblemDetail> storeUnavailable(Throwable e) {
        LOG.error("the database is not available", e);
        return retryShortly("store_unavailable", "the database is not available; retry shortly");
    }

    /** 503 with {@code Retry-After: 5}: the request did not run and can be sent again as it is. */
    public static ResponseEntity<ProblemDetail> retryShortly(String code, String detail) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "5")
                .body(Problems.of(HttpStatus.SERVICE_UNAVAILABLE, code, detail));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) throws Exception {
        if (e instanceof AccessDeniedException || e instanceof AuthenticationException || e instanceof ErrorResponse) {
            throw e; // the security filters and Spring's resolvers answer these
        }
        if (isStoreUnavailable(e)) {
            return storeUnavailable(e);
        }
        LOG.error("unexpected failure", e);
        return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR)
                .body(Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, "internal_error", "an unexpected error occurred; it has been logged"));
    }
}
