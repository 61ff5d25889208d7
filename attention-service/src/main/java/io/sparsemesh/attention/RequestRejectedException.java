package io.sparsemesh.attention;

import io.grpc.Status;

/**
 * Rows of a Forward request that cannot run, with the gRPC status code and the sequences to
 * blame. The service responds with a {@code SequenceFailure} and keeps the stream open.
 */
final class RequestRejectedException extends RuntimeException {

    private final Status.Code code;
    private final long[] sequenceIds;

    RequestRejectedException(Status.Code code, String message, long[] sequenceIds) {
        super(message, null, false, false);
        this.code = code;
        this.sequenceIds = sequenceIds.clone();
    }

    Status.Code code() {
        return code;
    }

    long[] sequenceIds() {
        return sequenceIds.clone();
    }
}
