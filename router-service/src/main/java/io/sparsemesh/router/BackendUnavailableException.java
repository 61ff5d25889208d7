package io.sparsemesh.router;

/**
 * A service the router needs for a request (the tokenizer service) failed or timed out. The
 * message is meant for API clients and names no internal call; the cause carries the details.
 */
public final class BackendUnavailableException extends RuntimeException {

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
