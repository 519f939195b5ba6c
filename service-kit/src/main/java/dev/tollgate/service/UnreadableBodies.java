package dev.tollgate.service;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.tollgate.service.http.BodyLimitExceeded;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageNotReadableException;

import java.time.temporal.Temporal;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a 400 says about a request body that could not be read: the field and the JSON type it must
 * have, or where the JSON breaks, in the API's words. Never a Java class name, package or stack
 * detail (issue #19 item 12); our own records' validation messages (an {@link IllegalArgumentException}
 * naming the field) pass through. Capped in length, since it may echo input.
 */
public final class UnreadableBodies {
    static final int MAX_DETAIL = 300;

    private UnreadableBodies() {}

    /** The problem for a body that could not be read: 400 naming the field, or the limit it broke (413, 408). */
    public static ProblemDetail problem(HttpMessageNotReadableException e) {
        BodyLimitExceeded limit = BodyLimitExceeded.in(e);
        if (limit != null) {
            return Problems.of(limit.status(), limit.code(), limit.getMessage());
        }
        return Problems.of(HttpStatus.BAD_REQUEST, "invalid_request", describe(e.getMostSpecificCause()));
    }

    /** The problem detail for {@code cause}, the most specific cause of the unreadable body. */
    public static String describe(Throwable cause) {
        String detail;
        if (cause instanceof IllegalArgumentException invalid && invalid.getMessage() != null) {
            detail = invalid.getMessage();
        } else if (cause instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            detail = "field '" + path(mismatch) + "' must be " + expected(mismatch.getTargetType());
        } else if (cause instanceof JsonParseException parse && parse.getLocation() != null) {
            detail = "the request body is not valid JSON (line " + parse.getLocation().getLineNr() + ", column "
                    + parse.getLocation().getColumnNr() + ")";
        } else if (cause instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            detail = "field '" + path(mapping) + "' has a value this operation does not take";
        } else {
            detail = "the request body is not valid JSON for this operation";
        }
        return detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) : detail;
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream().map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    /** The JSON type a Java target type reads from. */
    static String expected(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == String.class || type == Character.class || type == char.class) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type.isPrimitive() || Number.class.isAssignableFrom(type)) {
            return type == double.class || type == float.class || type == Double.class || type == Float.class ? "a number"
                    : "an integer";
        }
        if (Temporal.class.isAssignableFrom(type)) {
            return "an ISO-8601 date-time string";
        }
        if (type.isEnum()) {
            return "one of " + Arrays.stream(type.getEnumConstants()).map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type)) {
            return "an object";
        }
        return "an object";
    }
}
