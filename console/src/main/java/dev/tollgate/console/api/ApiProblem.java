package dev.tollgate.console.api;

/**
 * An API's refusal (RFC 9457 problem details) or its silence, carried to the page that shows it.
 *
 * @param status the API's HTTP status; 503 when it could not be reached
 * @param code   the problem's machine-readable {@code code}, when it gave one
 */
public final class ApiProblem extends RuntimeException {
    private final int status;
    private final String code;
    private final String detail;

    public ApiProblem(int status, String code, String detail) {
        super(status + " " + code + ": " + detail, null, false, false);
        this.status = status;
        this.code = code;
        this.detail = detail;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String detail() {
        return detail;
    }

    /** What a person reads: the API's own detail after a sentence that says what kind of refusal it is. */
    public String sentence() {
        String kind = switch (status) {
            case 400, 422 -> "The request was refused.";
            case 401 -> "Your sign-in has expired; sign in again.";
            case 403 -> "Your role may not do this.";
            case 404 -> "There is nothing here, or it is not yours to see.";
            case 409 -> "This conflicts with what is already there.";
            case 429 -> "Too many requests; wait a moment and try again.";
            default -> status >= 500 ? "The service is not answering right now; try again shortly." : "The request failed.";
        };
        return detail == null || detail.isBlank() || status == 404 ? kind : kind + " " + detail;
    }
}
