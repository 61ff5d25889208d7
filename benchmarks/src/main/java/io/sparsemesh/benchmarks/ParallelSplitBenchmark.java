package io.sparsemesh.benchmarks;

import io.sparsemesh.core.tensor.DType;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The gain of splitting a matmul across two threads: the same F32 matmul on one thread and on a
 * pool that splits every call. With {@code idleMicros = 0} the pool's worker is still
 * spinning from the previous call; with 200 µs of caller work between calls it has parked and
 * must be woken. Both variants spend the idle time, so their difference is the split's gain.
 * Not part of the kernel report; run it to re-tune the parallel threshold.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class ParallelSplitBenchmark {

    @Param({"128x128", "256x256", "512x512", "1024x1024"})
    public String shape;

    @Param({"1", "8"})
    public int batch;

    @Param({"0", "200"})
    public int idleMicros;

    private MatmulFixture fixture;

    @Setup(Level.Trial)
    public void map() {
        int[] size = MatmulFixture.shape(shape);
        fixture = new MatmulFixture(DType.F32, size[0], size[1], batch);
    }

    @TearDown(Level.Trial)
    public void unmap() throws IOException {
        fixture.close();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsparsemesh.kernels.threads=1"})
    public float[] oneThread() {
        return matmulAfterIdle();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsparsemesh.kernels.threads=2",
            "-Dsparsemesh.kernels.parallel-min-work=0"})
    public float[] twoThreadsAlwaysSplit() {
        return matmulAfterIdle();
    }

    private float[] matmulAfterIdle() {
        long until = System.nanoTime() + idleMicros * 1000L;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        fixture.matrix.matmul(fixture.x, fixture.out, batch);
        return fixture.out;
    }
}
