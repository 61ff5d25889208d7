package io.sparsemesh.transport.attention;

import io.grpc.Status;
import io.sparsemesh.core.engine.FailureCode;
import io.sparsemesh.core.engine.SequencesFailedException;

import java.util.Arrays;

/**
 * Some sequences of a forward step could not run remotely and must end (or be re-prefilled from
 * position 0). The step as a whole did not complete: a caller drops {@link #sequenceIds()} and
 * may run the step again for the other sequences, at the same positions.
 */
public final class SequenceFailedException extends SequencesFailedException {

    private final transient Status status;

    public SequenceFailedException(String message, Status status, long[] sequenceIds) {
        super(sequenceIds, FailureCode.fromName(status.getCode().name()), message, status.getCause());
        this.status = status;
    }

    /** Returns the gRPC status that explains the failure, e.g. RESOURCE_EXHAUSTED or UNAVAILABLE. */
    public Status status() {
        return status;
    }

    public boolean failed(long sequenceId) {
        return contains(sequenceId);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + status.getCode() + ", sequences " + Arrays.toString(sequenceIds())
                + "]: " + getMessage();
    }
}
