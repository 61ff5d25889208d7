package io.sparsemesh.transport.tokenizer;

import io.grpc.Status;

/** A failed call to the tokenizer service; {@link #code()} is the gRPC status, such as INVALID_ARGUMENT or DEADLINE_EXCEEDED. */
public final class RemoteTokenizerException extends RuntimeException {

    private final Status.Code code;
    private final String description;

    public RemoteTokenizerException(String method, Status status, Throwable cause) {
        super("tokenizer service call " + method + " failed with " + status.getCode()
                + (status.getDescription() != null ? ": " + status.getDescription() : ""), cause);
        this.code = status.getCode();
        this.description = status.getDescription() != null ? status.getDescription() : status.getCode().name();
    }

    public Status.Code code() {
        return code;
    }

    /** Returns the service's description of the failure, without the call's name, or the status code when it sent none. */
    public String description() {
        return description;
    }
}
