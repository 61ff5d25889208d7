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
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A matmul of mapped weights with a batch of x rows, on a kernel pool of one thread and of two.
 * Subclasses choose the types, shapes and batch sizes as JMH parameters.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class MatmulBenchmark {

    private MatmulFixture fixture;
    private int batchSize;

    abstract String dtypeName();

    abstract String shapeText();

    abstract int batchSize();

    @Setup(Level.Trial)
    public void map() {
        int[] size = MatmulFixture.shape(shapeText());
        batchSize = batchSize();
        fixture = new MatmulFixture(DType.valueOf(dtypeName()), size[0], size[1], batchSize);
    }

    @TearDown(Level.Trial)
    public void unmap() throws IOException {
        fixture.close();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsparsemesh.kernels.threads=1"})
    public float[] matmul1Thread(Work work) {
        return matmul(work);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dsparsemesh.kernels.threads=2"})
    public float[] matmul2Threads(Work work) {
        return matmul(work);
    }

    private float[] matmul(Work work) {
        fixture.matrix.matmul(fixture.x, fixture.out, batchSize);
        fixture.count(work);
        return fixture.out;
    }
}
