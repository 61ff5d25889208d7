package io.sparsemesh.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The work that benchmark calls do, counted per thread. JMH reports each public field as a rate
 * (per second, summed over threads) next to the calls per second, so the JSON output carries
 * floating-point operations and bytes read per second directly.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Work {

    /** Floating-point operations: a multiply-add counts as two. */
    public long flops;
    /** Bytes of weights or buffer read from memory. */
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
        flops = 0;
        bytes = 0;
    }
}
