package io.sparsemesh.standalone.experiment;

/**
 * A rerun whose plan differs from the one the results directory was measured with, in a field
 * that changes what a saved run measured. The message names the fields and how to start afresh.
 */
public final class PlanChangedException extends RuntimeException {

    public PlanChangedException(String message) {
        super(message);
    }
}
