package dev.tollgate.service.http;

import dev.tollgate.service.Problems;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.Locale;

/**
 * The answer to what the servlet container itself refuses (Tomcat's 408 for a body that stopped
 * arriving, its 400s for requests it cannot parse), as RFC 9457 problem details like every other
 * answer of the admin and billing APIs, in place of Spring Boot's default error page. It says the
 * status and nothing else: no exception, message or path. Imported with {@link RequestBodyLimits}.
 */
@RestController
public class ProblemErrors implements ErrorController {

    @RequestMapping(path = "/error", produces = MediaType.APPLICATION_PROBLEM_JSON_VALUE)
    public ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        HttpStatus status = HttpStatus.resolve(request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) instanceof Integer code ? code : 500);
        if (status == null || !status.isError()) {
            status = HttpStatus.INTERNAL_SERVER_ERROR;
        }
        String code = switch (status) {
            case REQUEST_TIMEOUT -> "body_too_slow";
            case PAYLOAD_TOO_LARGE -> "body_too_large";
            case NOT_FOUND -> "not_found";
            default -> status.is4xxClientError() ? "invalid_request" : "internal_error";
        };
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(Problems.of(status, code, status.getReasonPhrase().toLowerCase(Locale.ROOT)));
    }
}
