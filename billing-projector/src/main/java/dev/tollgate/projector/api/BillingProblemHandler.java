package dev.tollgate.projector.api;

import dev.tollgate.service.Problems;
import dev.tollgate.service.UnreadableBodies;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.context.request.WebRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/** The one place where billing API failures become RFC 9457 problem details. */
@RestControllerAdvice
@Order(0)
public class BillingProblemHandler extends ResponseEntityExceptionHandler {

    @ExceptionHandler(BillingException.class)
    ResponseEntity<ProblemDetail> billing(BillingException e) {
        HttpStatus status = switch (e) {
            case BillingException.Invalid invalid -> HttpStatus.BAD_REQUEST;
            case BillingException.Forbidden forbidden -> HttpStatus.FORBIDDEN;
            case BillingException.NotFound notFound -> HttpStatus.NOT_FOUND;
            case BillingException.Conflict conflict -> HttpStatus.CONFLICT;
            case BillingException.Upstream upstream -> HttpStatus.BAD_GATEWAY;
            case BillingException.Unavailable unavailable -> HttpStatus.SERVICE_UNAVAILABLE;
            default -> HttpStatus.INTERNAL_SERVER_ERROR;
        };
        var response = ResponseEntity.status(status);
        if (status == HttpStatus.SERVICE_UNAVAILABLE) {
            response.header("Retry-After", "1");
        }
        return response.body(Problems.of(status, e.code(), e.getMessage()));
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> badParameter(MethodArgumentTypeMismatchException e) {
        return ResponseEntity.badRequest().body(Problems.of(HttpStatus.BAD_REQUEST, "invalid_request",
                "parameter '" + e.getName() + "' is not valid"));
    }

    /** An unreadable body (say which field), or a body over a limit. */
    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = UnreadableBodies.problem(e);
        return ResponseEntity.status(problem.getStatus()).body(problem);
    }
}
