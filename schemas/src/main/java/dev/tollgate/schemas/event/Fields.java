package dev.tollgate.schemas.event;

import java.util.List;

/** Invariant checks shared by the records' compact constructors; messages always name the field. */
public final class Fields {
    private Fields() {}

    /** Returns {@code value}, or throws naming {@code field} when it is absent. */
    public static <T> T required(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("missing required field '" + field + "'");
        }
        return value;
    }

    /** Returns {@code value}, or throws naming {@code field} when it is absent or blank. */
    public static String requiredText(String value, String field) {
        if (required(value, field).isBlank()) {
            throw new IllegalArgumentException("field '" + field + "' must not be blank");
        }
        return value;
    }

    /** Returns {@code value}, or throws naming {@code field} when it is negative. */
    public static long nonNegative(long value, String field) {
        if (value < 0) {
            throw new IllegalArgumentException("field '" + field + "' must be >= 0, was " + value);
        }
        return value;
    }

    /** Returns {@code value} (which may be null), or throws naming {@code field} when it is negative. */
    public static Long nonNegativeOrNull(Long value, String field) {
        return value == null ? null : nonNegative(value, field);
    }

    /** An immutable copy of {@code values}; an absent list becomes empty. */
    public static <T> List<T> listOrEmpty(List<T> values) {
        return values == null ? List.of() : List.copyOf(values);
    }
}
