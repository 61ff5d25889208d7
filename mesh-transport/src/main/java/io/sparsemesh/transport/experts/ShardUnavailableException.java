package io.sparsemesh.transport.experts;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * No replica of an expert shard could serve a request: its status is {@code UNAVAILABLE} and its
 * message names the shard. The step that needed the shard cannot finish, so the router ends the
 * requests in that step.
 */
public final class ShardUnavailableException extends StatusRuntimeException {

    private final int shard;

    public ShardUnavailableException(int shard, String description, Throwable lastFailure) {
        super(Status.UNAVAILABLE.withDescription(description).withCause(lastFailure));
        this.shard = shard;
    }

    /** Returns the expert shard that has no replica left. */
    public int shard() {
        return shard;
    }
}
