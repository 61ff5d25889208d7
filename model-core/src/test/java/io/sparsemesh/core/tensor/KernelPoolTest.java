package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The row split across threads: it must give the single-threaded results bit for bit. */
class KernelPoolTest {

    /** A pool that splits every matmul, however small, across three threads. */
    private static final KernelPool ALWAYS_SPLIT = new KernelPool(3, 0);

    static Stream<DType> dtypes() {
        return MatrixKernelTest.dtypes();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void splitRowsEqualSingleThreadBitwise(DType dtype) {
        int rows = 301;
        int cols = 512;
        int batch = 6;
        MemorySegment weights = TestWeights.random(dtype, rows, cols, 11, Arena.ofAuto());
        AbstractMatrix matrix = (AbstractMatrix) Matrices.mapped(dtype, weights, rows, cols);
        float[] x = TestWeights.activations(batch * cols, 12);
        float[] single = new float[batch * rows];
        matrix.matmulRows(x, 0, single, 0, batch, 0, rows);

        float[] split = new float[batch * rows];
        ALWAYS_SPLIT.matmul(matrix, rows, 0, x, 0, split, 0, batch);

        assertArrayEquals(single, split);
    }

    @Test
    void sharedPoolSplitsLargeMatmulWithSameResult() {
        int rows = 1024;
        int cols = 1024;
        int batch = 4;
        assertTrue((long) rows * cols * batch >= KernelPool.shared().minParallelWork(),
                "this test needs work above the parallel threshold");
        FloatMatrix matrix = new FloatMatrix(TestWeights.activations(rows * cols, 13), rows, cols);
        float[] x = TestWeights.activations(batch * cols, 14);
        float[] single = new float[batch * rows];
        matrix.matmulRows(x, 0, single, 0, batch, 0, rows);

        float[] pooled = new float[batch * rows];
        matrix.matmul(x, pooled, batch);

        assertArrayEquals(single, pooled);
    }

    @Test
    void concurrentCallersAllGetCorrectResults() throws Exception {
        int rows = 257;
        int cols = 96;
        Matrix matrix = Matrices.mapped(DType.Q8_0, TestWeights.random(DType.Q8_0, rows, cols, 15, Arena.ofAuto()), rows, cols);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int caller = 0; caller < 4; caller++) {
                int seed = caller;
                results.add(callers.submit(() -> {
                    int batch = 5 + seed;
                    float[] x = TestWeights.activations(batch * cols, 100 + seed);
                    float[] expected = new float[batch * rows];
                    ((AbstractMatrix) matrix).matmulRows(x, 0, expected, 0, batch, 0, rows);
                    float[] out = new float[batch * rows];
                    for (int repeat = 0; repeat < 200; repeat++) {
                        ALWAYS_SPLIT.matmul((AbstractMatrix) matrix, rows, 0, x, 0, out, 0, batch);
                        assertArrayEquals(expected, out, "caller " + seed + ", repeat " + repeat);
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get(60, TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void confinedSegmentIsNotSplit() {
        int rows = 64;
        int cols = 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment weights = TestWeights.random(DType.F32, rows, cols, 16, arena);
            AbstractMatrix matrix = (AbstractMatrix) Matrices.mapped(DType.F32, weights, rows, cols);

            assertEquals(KernelPool.shared().parallelism() == 1, matrix.parallelSafe(),
                    "a confined segment is safe to split only when the pool has no workers");
        }
    }

    @Test
    void workerFailureReachesCaller() {
        int rows = 64;
        int cols = 64;
        Arena arena = Arena.ofShared();
        AbstractMatrix matrix = (AbstractMatrix) Matrices.mapped(DType.F32,
                TestWeights.random(DType.F32, rows, cols, 17, arena), rows, cols);
        arena.close();
        float[] x = new float[cols];
        float[] out = new float[rows];

        assertThrows(IllegalStateException.class, () -> ALWAYS_SPLIT.matmul(matrix, rows, 0, x, 0, out, 0, 1));

        ALWAYS_SPLIT.matmul(new FloatMatrix(new float[rows * cols], rows, cols), rows, 0, x, 0, out, 0, 1);
        assertArrayEquals(new float[rows], out, "the pool must work again after a failed job");
    }

    @Test
    void parallelismBelowOneIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new KernelPool(0, 0));

        assertTrue(error.getMessage().contains("0"), error.getMessage());
    }
}
