package dev.tollgate.schemas.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import static dev.tollgate.schemas.event.Fields.requiredText;

/** An error as the client saw it, in the OpenAI error shape plus the HTTP status. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RequestError(
        @JsonProperty(required = true) int httpStatus, String type, String code, String message) {
    public RequestError {
        if (httpStatus < 100 || httpStatus > 599) {
            throw new IllegalArgumentException("field 'httpStatus' must be an HTTP status, was " + httpStatus);
        }
        requiredText(type, "type");
        requiredText(code, "code");
    }
}
