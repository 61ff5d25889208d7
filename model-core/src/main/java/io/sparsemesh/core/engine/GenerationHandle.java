package io.sparsemesh.core.engine;

/** A submitted generation, which the caller may cancel. */
public interface GenerationHandle {

    String requestId();

    /** Asks the scheduler to drop the sequence at the next step boundary and free its caches. */
    void cancel();
}
