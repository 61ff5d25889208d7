package io.sparsemesh.core.engine;

/**
 * Thrown by a backend when some rows of a step could not be computed but the others could be
 * computed by running the step again (e.g. every replica of one expert shard is down). The
 * transformer turns the rows into the sequences they belong to.
 */
public class RowsFailedException extends RuntimeException {

    private final int[] rows;
    private final FailureCode code;

    public RowsFailedException(int[] rows, FailureCode code, String message, Throwable cause) {
        super(message, cause);
        this.rows = rows.clone();
        this.code = code;
    }

    /** Indexes of the failed rows within the step. */
    public int[] rows() {
        return rows.clone();
    }

    public FailureCode code() {
        return code;
    }
}
