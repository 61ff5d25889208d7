package io.sparsemesh.standalone.experiment;

/** An invalid experiment plan; the message names the plan file and the field. */
public final class PlanException extends RuntimeException {

    public PlanException(String message) {
        super(message);
    }
}
