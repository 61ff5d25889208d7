package io.sparsemesh.gateway;

/** Ends a request with an {@link OpenAiError}; {@link OpenAiErrorFilter} writes it. */
public class OpenAiErrorException extends RuntimeException {

    private final transient OpenAiError error;

    public OpenAiErrorException(OpenAiError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    public OpenAiError error() {
        return error;
    }
}
