package io.sparsemesh.router;

/**
 * A generation request that cannot be served as sent. {@code field} names the offending request
 * field (OpenAI's {@code param}), or is null when no single field is at fault.
 */
public class InvalidRequestException extends RuntimeException {

    /** Why the request was rejected; front ends map it to a status. */
    public enum Kind {
        /** A field is missing, malformed or out of range: HTTP 400, gRPC INVALID_ARGUMENT. */
        INVALID,
        /** The requested model is not served here: HTTP 404, gRPC NOT_FOUND. */
        MODEL_NOT_FOUND,
        /** The prompt does not fit in the context: HTTP 400, gRPC OUT_OF_RANGE. */
        CONTEXT_EXCEEDED
    }

    private final Kind kind;
    private final String field;

    public InvalidRequestException(Kind kind, String field, String message) {
        super(message);
        this.kind = kind;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    public String field() {
        return field;
    }
}
