package io.sparsemesh.transport.attention;

import io.grpc.Status;

import java.util.Arrays;

/**
 * Some sequences of a forward step could not run remotely and must end (or be re-prefilled from
 * position 0). The step as a whole did not complete: a caller drops {@link #sequenceIds()} and
 * may run the step again for the other sequences, at the same positions.
 */
public final class SequenceFailedException extends RuntimeException {

    private final transient Status status;
    private final long[] sequenceIds;

    public SequenceFailedException(String message, Status status, long[] sequenceIds) {
        super(message, status.getCause());
        this.status = status;
        this.sequenceIds = sequenceIds.clone();
    }

    /** Returns the gRPC status that explains the failure, e.g. RESOURCE_EXHAUSTED or UNAVAILABLE. */
    public Status status() {
        return status;
    }

    /** Returns the failed sequences, each once. */
    public long[] sequenceIds() {
        return sequenceIds.clone();
    }

    public boolean failed(long sequenceId) {
        for (long id : sequenceIds) {
            if (id == sequenceId) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + status.getCode() + ", sequences " + Arrays.toString(sequenceIds)
                + "]: " + getMessage();
    }
}
