package dev.tollgate.schemas.json;

/** A record that is not a valid Tollgate event or state; the message names the offending field. */
public class EventFormatException extends RuntimeException {
    public EventFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
