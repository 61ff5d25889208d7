package io.sparsemesh.benchmarks;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The FMA peak of this machine: a loop of fused multiply-adds on vectors that never leave the
 * registers. Twelve independent accumulators cover the FMA latency (4 cycles on Zen 4) times the
 * FMA units (2).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@State(Scope.Thread)
public class PeakBenchmark {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int ITERATIONS = 1 << 12;
    static final int ACCUMULATORS = 12;
    /** Each FMA is a multiply and an add in every lane. */
    static final long FLOPS_PER_CALL = 2L * ITERATIONS * ACCUMULATORS * F.length();

    // Fields, so the JIT cannot fold the loop. The values keep the accumulators finite and normal.
    float multiplier = 0.999f;
    float addend = 1e-3f;

    @Benchmark
    @Threads(1)
    public float fma1Thread(Work work) {
        work.flops += FLOPS_PER_CALL;
        return fmaLoop();
    }

    @Benchmark
    @Threads(2)
    public float fma2Threads(Work work) {
        work.flops += FLOPS_PER_CALL;
        return fmaLoop();
    }

    private float fmaLoop() {
        FloatVector m = FloatVector.broadcast(F, multiplier);
        FloatVector c = FloatVector.broadcast(F, addend);
        FloatVector a0 = FloatVector.broadcast(F, 0.1f);
        FloatVector a1 = FloatVector.broadcast(F, 0.2f);
        FloatVector a2 = FloatVector.broadcast(F, 0.3f);
        FloatVector a3 = FloatVector.broadcast(F, 0.4f);
        FloatVector a4 = FloatVector.broadcast(F, 0.5f);
        FloatVector a5 = FloatVector.broadcast(F, 0.6f);
        FloatVector a6 = FloatVector.broadcast(F, 0.7f);
        FloatVector a7 = FloatVector.broadcast(F, 0.8f);
        FloatVector a8 = FloatVector.broadcast(F, 0.9f);
        FloatVector a9 = FloatVector.broadcast(F, 1.0f);
        FloatVector a10 = FloatVector.broadcast(F, 1.1f);
        FloatVector a11 = FloatVector.broadcast(F, 1.2f);

        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }

        FloatVector sum = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
        return sum.reduceLanes(VectorOperators.ADD);
    }
}
