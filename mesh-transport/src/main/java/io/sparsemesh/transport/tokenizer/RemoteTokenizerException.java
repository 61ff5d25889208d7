package io.sparsemesh.transport.tokenizer;

import io.grpc.Status;

/** A failed call to the tokenizer service; {@link #code()} is the gRPC status, such as INVALID_ARGUMENT or DEADLINE_EXCEEDED. */
public final class RemoteTokenizerException extends RuntimeException {

    private final Status.Code code;

    public RemoteTokenizerException(String method, Status status, Throwable cause) {
        super("tokenizer service call " + method + " failed with " + status.getCode()
                + (status.getDescription() != null ? ": " + status.getDescription() : ""), cause);
        this.code = status.getCode();
    }

    public Status.Code code() {
        return code;
    }
}
