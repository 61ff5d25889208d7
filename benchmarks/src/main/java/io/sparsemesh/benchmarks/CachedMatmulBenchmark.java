package io.sparsemesh.benchmarks;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Matmul with weights that fit in cache (256x256 F32 is 256 KiB, 1024x1024 F32 is 4 MiB, both
 * within the 32 MiB L3), so the FMA units, not memory, set the limit. The reporter compares
 * GFLOP/s with {@link PeakBenchmark} at the same thread count.
 */
@State(Scope.Benchmark)
public class CachedMatmulBenchmark extends MatmulBenchmark {

    @Param({"F32", "BF16", "Q8_0"})
    public String dtype;

    @Param({"256x256", "1024x1024"})
    public String shape;

    @Param({"1", "32"})
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
