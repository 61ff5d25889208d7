package io.sparsemesh.core.engine;

import java.util.Arrays;

/**
 * Some sequences of a step cannot go on (their attention replica died, their rows' expert shard
 * has no replica left, a limit was reached), while the other sequences of the step can: the
 * scheduler ends these with the error and runs the step again without them.
 */
public class SequencesFailedException extends RuntimeException {

    private final long[] sequenceIds;
    private final FailureCode code;

    public SequencesFailedException(long[] sequenceIds, FailureCode code, String message, Throwable cause) {
        super(message, cause);
        this.sequenceIds = sequenceIds.clone();
        this.code = code;
    }

    public long[] sequenceIds() {
        return sequenceIds.clone();
    }

    public FailureCode code() {
        return code;
    }

    public boolean contains(long sequenceId) {
        return Arrays.stream(sequenceIds).anyMatch(id -> id == sequenceId);
    }
}
