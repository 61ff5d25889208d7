package io.sparsemesh.core.checkpoint;

/** A checkpoint that cannot be read as asked: missing tensor, wrong shape, unknown dtype, truncated file. */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
