package dev.tollgate.ledger.api;

import dev.tollgate.ledger.domain.LedgerException;
import dev.tollgate.service.ProblemFallback;
import dev.tollgate.service.Problems;
import dev.tollgate.service.UnreadableBodies;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.common.lock.LockAcquisitionFailedException;
import org.axonframework.eventsourcing.eventstore.EventStoreException;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import java.sql.SQLException;

/** The one place where failures become RFC 9457 problem details. */
@RestControllerAdvice
@Order(0)
public class ProblemHandler extends ResponseEntityExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(LedgerException.class)
    ResponseEntity<ProblemDetail> ledger(LedgerException e) {
        HttpStatus status = switch (e) {
            case LedgerException.Invalid invalid -> HttpStatus.UNPROCESSABLE_ENTITY;
            case LedgerException.NotFound notFound -> HttpStatus.NOT_FOUND;
            case LedgerException.Conflict conflict -> HttpStatus.CONFLICT;
            case LedgerException.Forbidden forbidden -> HttpStatus.FORBIDDEN;
        };
        return problem(status, e.code(), e.getMessage());
    }

    @ExceptionHandler(AggregateNotFoundException.class)
    ResponseEntity<ProblemDetail> notFound(AggregateNotFoundException e) {
        return problem(HttpStatus.NOT_FOUND, "not_found", "no such resource");
    }

    @ExceptionHandler({AggregateStreamCreationException.class, ConcurrencyException.class})
    ResponseEntity<ProblemDetail> exists(RuntimeException e) {
        return problem(HttpStatus.CONFLICT, "already_exists", "a resource with this id already exists, or changed concurrently");
    }

    /** A create whose aggregate id exists (the store's unique key refused the first event) is a conflict. */
    @ExceptionHandler(EventStoreException.class)
    ResponseEntity<ProblemDetail> store(EventStoreException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
                return problem(HttpStatus.CONFLICT, "already_exists", "a resource with this id already exists");
            }
        }
        return ProblemFallback.storeUnavailable(e);
    }

    /**
     * The tenant's aggregate stayed locked for longer than Axon waits (60 s): the command holding it
     * is waiting on the database (a partition, up to the 30 s socket timeout per statement). This
     * command never ran, so the answer is the one for an unavailable store: 503, retry.
     */
    @ExceptionHandler(LockAcquisitionFailedException.class)
    ResponseEntity<ProblemDetail> busy(LockAcquisitionFailedException e) {
        LOG.warn("a command waited too long for its aggregate's lock: {}", e.getMessage());
        return ProblemFallback.retryShortly("resource_busy", "another change to this resource is waiting on the database; retry shortly");
    }

    @ExceptionHandler(CommandExecutionException.class)
    ResponseEntity<ProblemDetail> command(CommandExecutionException e) {
        if (e.getCause() instanceof LedgerException ledger) {
            return ledger(ledger);
        }
        if (ProblemFallback.isStoreUnavailable(e)) {
            return ProblemFallback.storeUnavailable(e);
        }
        LOG.error("command failed", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal_error", "the command could not be executed");
    }

    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<ProblemDetail> invalid(IllegalArgumentException e) {
        return problem(HttpStatus.BAD_REQUEST, "invalid_request", e.getMessage());
    }

    /** Unreadable JSON or a value a record refuses (say which field, as our records' messages do), or a body over a limit. */
    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = UnreadableBodies.problem(e);
        return ResponseEntity.status(problem.getStatus()).body(problem);
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatus status, String code, String detail) {
        return ResponseEntity.status(status).body(Problems.of(status, code, detail));
    }
}
