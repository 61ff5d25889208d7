package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel against the reference: dequantise with {@link Matrices#toFloats}, then the triple
 * loop of {@link Kernels#matmul}. Both sum in float, in different orders, so an output may differ
 * from the reference by {@value #TOLERANCE} times {@code Σ_c |w[r][c]·x[b][c]|}, the scale of
 * float rounding error over the row (worst-case rounding for 4096 terms is about 2.4e-4 of it;
 * random rounding stays near 1e-6).
 */
class MatrixKernelTest {

    static final float TOLERANCE = 1e-5f;
    private static final int[] BATCHES = {1, 2, 3, 5, 32, 33};

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (DType dtype : List.of(DType.F32, DType.F16, DType.BF16)) {
            for (int cols : new int[] {1, 17, 64, 100, 172, 1100, 4096}) {
                addBatches(cases, dtype, cols);
            }
        }
        for (DType dtype : List.of(DType.Q8_0, DType.Q4_0)) {
            for (int cols : new int[] {32, 64, 96, 160, 1280, 4096}) {
                addBatches(cases, dtype, cols);
            }
        }
        for (DType dtype : List.of(DType.Q4_K, DType.Q6_K)) {
            for (int cols : new int[] {256, 768, 1280, 4096}) {
                addBatches(cases, dtype, cols);
            }
        }
        return cases.stream();
    }

    private static void addBatches(List<Arguments> cases, DType dtype, int cols) {
        for (int batch : BATCHES) {
            cases.add(Arguments.of(dtype, cols, batch));
        }
    }

    @ParameterizedTest(name = "{0} cols={1} batch={2}")
    @MethodSource("cases")
    void matmulMatchesDequantisedTripleLoop(DType dtype, int cols, int batch) {
        int rows = 7;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment weights = TestWeights.random(dtype, rows, cols, 31L * cols + batch, arena);
            Matrix matrix = Matrices.mapped(dtype, weights, rows, cols);
            assertEquals(dtype, matrix.dtype());

            assertMatmulMatchesReference(matrix, Matrices.toFloats(dtype, weights, (long) rows * cols), batch);
        }
    }

    @ParameterizedTest(name = "{0} cols={1} batch={2}")
    @MethodSource("cases")
    void scalarBackendMatchesDequantisedTripleLoop(DType dtype, int cols, int batch) {
        int rows = 3;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment weights = TestWeights.random(dtype, rows, cols, 17L * cols + batch, arena);
            Matrix matrix = new ScalarMatrix(dtype, weights, rows, cols);

            assertMatmulMatchesReference(matrix, Matrices.toFloats(dtype, weights, (long) rows * cols), batch);
        }
    }

    @ParameterizedTest(name = "cols={0} batch={1}")
    @MethodSource("floatCases")
    void floatMatrixMatchesTripleLoop(int cols, int batch) {
        int rows = 5;
        float[] w = TestWeights.activations(rows * cols + 3, cols);
        FloatMatrix matrix = new FloatMatrix(w, 3, rows, cols);
        float[] dense = Arrays.copyOfRange(w, 3, 3 + rows * cols);

        assertMatmulMatchesReference(matrix, dense, batch);
    }

    static Stream<Arguments> floatCases() {
        List<Arguments> cases = new ArrayList<>();
        for (int cols : new int[] {1, 17, 64, 100, 172, 1100, 4096}) {
            for (int batch : BATCHES) {
                cases.add(Arguments.of(cols, batch));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void batchRowsEqualSingleRowsBitwise(DType dtype) {
        int rows = 9;
        int cols = 512;
        int batch = 6;
        try (Arena arena = Arena.ofConfined()) {
            Matrix matrix = Matrices.mapped(dtype, TestWeights.random(dtype, rows, cols, 5, arena), rows, cols);
            float[] x = TestWeights.activations(batch * cols, 6);
            float[] batched = new float[batch * rows];
            matrix.matmul(x, batched, batch);

            for (int b = 0; b < batch; b++) {
                float[] single = new float[rows];
                matrix.matmul(x, b * cols, single, 0, 1);
                assertArrayEquals(single, Arrays.copyOfRange(batched, b * rows, (b + 1) * rows),
                        "x row " + b + " computed alone differs from the same row inside a batch of " + batch);
            }
        }
    }

    static Stream<DType> dtypes() {
        return Stream.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void matmulHonoursOffsets(DType dtype) {
        int rows = 5;
        int cols = 256;
        int batch = 3;
        try (Arena arena = Arena.ofConfined()) {
            Matrix matrix = Matrices.mapped(dtype, TestWeights.random(dtype, rows, cols, 8, arena), rows, cols);
            float[] x = TestWeights.activations(batch * cols, 9);
            float[] shiftedX = new float[11 + x.length];
            System.arraycopy(x, 0, shiftedX, 11, x.length);
            float[] expected = new float[batch * rows];
            matrix.matmul(x, expected, batch);

            float[] out = new float[batch * rows + 20];
            Arrays.fill(out, -7f);
            matrix.matmul(shiftedX, 11, out, 13, batch);

            assertArrayEquals(expected, Arrays.copyOfRange(out, 13, 13 + batch * rows));
            for (int i = 0; i < 13; i++) {
                assertEquals(-7f, out[i], "out[" + i + "] before outOffset was overwritten");
            }
            for (int i = 13 + batch * rows; i < out.length; i++) {
                assertEquals(-7f, out[i], "out[" + i + "] after the outputs was overwritten");
            }
        }
    }

    /** Runs {@code matrix.matmul} on random x and compares every output with the triple loop over {@code dense}. */
    static void assertMatmulMatchesReference(Matrix matrix, float[] dense, int batch) {
        int rows = matrix.rows();
        int cols = matrix.cols();
        float[] x = TestWeights.activations(batch * cols, 1000L + batch);
        float[] expected = new float[batch * rows];
        Kernels.matmul(dense, 0, rows, cols, x, 0, expected, 0, batch);
        float[] magnitudes = TestWeights.magnitudes(dense, rows, cols, x, batch);

        float[] out = new float[batch * rows];
        Arrays.fill(out, Float.NaN);
        matrix.matmul(x, out, batch);

        for (int i = 0; i < out.length; i++) {
            float allowed = TOLERANCE * magnitudes[i] + Float.MIN_NORMAL;
            float error = Math.abs(out[i] - expected[i]);
            assertTrue(error <= allowed, matrix + " out[b=" + i / rows + "][r=" + i % rows + "] = " + out[i]
                    + ", reference " + expected[i] + ", error " + error + " > allowed " + allowed);
        }
    }
}
