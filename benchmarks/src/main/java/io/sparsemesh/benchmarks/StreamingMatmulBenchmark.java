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
 * Matvec with weights far larger than cache (8192x8192 is 256 MiB in F32, 36 MiB in Q4_0), so
 * memory bandwidth sets the limit. The reporter compares GB/s of weights read with
 * {@link BandwidthBenchmark} at the same thread count.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class StreamingMatmulBenchmark {

    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    public String dtype;

    @Param({"8192x8192"})
    public String shape;

    @Param({"1"})
    public int batch;

    private MatmulFixture fixture;

    @Setup(Level.Trial)
    public void map() {
        int[] size = MatmulFixture.shape(shape);
        fixture = new MatmulFixture(DType.valueOf(dtype), size[0], size[1], batch);
    }

    @TearDown(Level.Trial)
    public void unmap() throws IOException {
        fixture.close();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsparsemesh.kernels.threads=1"})
    public float[] matmul1Thread(Work work) {
        fixture.matrix.matmul(fixture.x, fixture.out, batch);
        fixture.count(work);
        return fixture.out;
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsparsemesh.kernels.threads=2"})
    public float[] matmul2Threads(Work work) {
        fixture.matrix.matmul(fixture.x, fixture.out, batch);
        fixture.count(work);
        return fixture.out;
    }
}
