package io.sparsemesh.benchmarks;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Matvec with weights far larger than cache (8192x8192 is 256 MiB in F32, 36 MiB in Q4_0), so
 * memory bandwidth sets the limit. The reporter compares GB/s of weights read with
 * {@link BandwidthBenchmark} at the same thread count.
 */
@State(Scope.Benchmark)
public class StreamingMatmulBenchmark extends MatmulBenchmark {

    @Param({"F32", "BF16", "F16", "Q8_0", "Q4_0"})
    public String dtype;

    @Param({"8192x8192"})
    public String shape;

    @Param({"1"})
    public int batch;

    @Override
    String dtypeName() {
        return dtype;
    }

    @Override
    String shapeText() {
        return shape;
    }

    @Override
    int batchSize() {
        return batch;
    }
}
