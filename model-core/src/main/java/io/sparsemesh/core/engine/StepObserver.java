package io.sparsemesh.core.engine;

/** Receives per-step figures from the {@link Scheduler}, e.g. for metrics. Called on the step thread. */
@FunctionalInterface
public interface StepObserver {

    StepObserver NONE = (rows, sampled, running, waiting, nanos) -> { };

    /**
     * @param rows    rows (tokens) in the step
     * @param sampled sequences that sampled a token
     * @param running sequences in the running batch
     * @param waiting requests waiting to join it
     * @param nanos   time the forward step took
     */
    void onStep(int rows, int sampled, int running, int waiting, long nanos);

    /** Called once when the running batch becomes empty, so gauges of running sequences return to 0. */
    default void onIdle() {
    }
}
