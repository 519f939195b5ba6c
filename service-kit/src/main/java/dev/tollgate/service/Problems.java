package dev.tollgate.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

import java.io.IOException;
import java.net.URI;

/** RFC 9457 problem details of the admin and billing APIs: one type URI per machine-readable {@code code}. */
public final class Problems {
    private Problems() {}

    public static ProblemDetail of(HttpStatus status, String code, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create("https://tollgate.dev/problems/" + code));
        problem.setProperty("code", code);
        return problem;
    }

    /** Writes a problem from a servlet filter or security handler, outside Spring MVC. */
    public static void write(HttpServletResponse response, ObjectMapper mapper, HttpStatus status, String code, String detail)
            throws IOException {
        response.setStatus(status.value());
        response.setContentType("application/problem+json");
        if (status == HttpStatus.UNAUTHORIZED) {
            response.setHeader("WWW-Authenticate", "Bearer");
        }
        mapper.writeValue(response.getOutputStream(), of(status, code, detail));
    }
}
