package io.sparsemesh.standalone.experiment;

/** A replay that cannot start: the records cannot be read, or none of them can be sent. */
public final class ReplayException extends RuntimeException {

    public ReplayException(String message) {
        super(message);
    }

    public ReplayException(String message, Throwable cause) {
        super(message, cause);
    }
}
