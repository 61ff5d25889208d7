package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Element access, row copies, row-range views and argument checks of mapped matrices. */
class MatrixViewTest {

    static java.util.stream.Stream<DType> dtypes() {
        return MatrixKernelTest.dtypes();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void getAndCopyRowMatchDecodedMatrix(DType dtype) {
        int rows = 3;
        int cols = 512;
        MemorySegment weights = TestWeights.random(dtype, rows, cols, 21, Arena.ofAuto());
        Matrix matrix = Matrices.mapped(dtype, weights, rows, cols);
        float[] dense = Matrices.toFloats(dtype, weights, (long) rows * cols);

        float[] row = new float[cols + 2];
        matrix.copyRow(2, row, 2);

        assertArrayEquals(Arrays.copyOfRange(dense, 2 * cols, 3 * cols), Arrays.copyOfRange(row, 2, cols + 2));
        for (int col : new int[] {0, 1, 31, 32, 255, 256, 511}) {
            assertEquals(dense[cols + col], matrix.get(1, col), "get(1, " + col + ")");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dtypes")
    void rowRangeSharesStorageAndComputesItsRows(DType dtype) {
        int rows = 10;
        int cols = 256;
        int batch = 5;
        MemorySegment weights = TestWeights.random(dtype, rows, cols, 22, Arena.ofAuto());
        Matrix matrix = Matrices.mapped(dtype, weights, rows, cols);
        float[] x = TestWeights.activations(batch * cols, 23);
        float[] full = new float[batch * rows];
        matrix.matmul(x, full, batch);

        Matrix view = matrix.rowRange(3, 8);
        float[] part = new float[batch * 5];
        view.matmul(x, part, batch);

        assertEquals(5, view.rows());
        assertEquals(cols, view.cols());
        assertEquals(dtype, view.dtype());
        assertEquals(matrix.byteSize() / 2, view.byteSize());
        for (int b = 0; b < batch; b++) {
            assertArrayEquals(Arrays.copyOfRange(full, b * rows + 3, b * rows + 8),
                    Arrays.copyOfRange(part, b * 5, b * 5 + 5), "x row " + b);
        }
        assertEquals(matrix.get(4, 100), view.get(1, 100));
        assertEquals(matrix.get(9, 7), matrix.rowRange(9, 10).rowRange(0, 1).get(0, 7), "a view of a view");
    }

    @Test
    void floatMatrixRowRangeComputesItsRows() {
        int rows = 6;
        int cols = 33;
        FloatMatrix matrix = new FloatMatrix(TestWeights.activations(rows * cols, 24), rows, cols);
        float[] x = TestWeights.activations(cols, 25);
        float[] full = new float[rows];
        matrix.matmul(x, full, 1);

        float[] part = new float[2];
        matrix.rowRange(4, 6).matmul(x, part, 1);

        assertArrayEquals(Arrays.copyOfRange(full, 4, 6), part);
    }

    @Test
    void mappedFileMatchesReference(@TempDir Path dir) throws IOException {
        int rows = 33;
        int cols = 100;
        MemorySegment source = TestWeights.random(DType.BF16, rows, cols, 26, Arena.ofAuto());
        Path file = dir.resolve("weights.bin");
        Files.write(file, source.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        try (Arena arena = Arena.ofShared(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            Matrix matrix = Matrices.mapped(DType.BF16, mapped, rows, cols);

            MatrixKernelTest.assertMatmulMatchesReference(matrix, Matrices.toFloats(DType.BF16, mapped, (long) rows * cols), 4);
        }
    }

    @Test
    void shortSegmentIsRejectedWithSizes() {
        MemorySegment weights = Arena.ofAuto().allocate(100);

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Matrices.mapped(DType.F32, weights, 5, 6));

        assertTrue(error.getMessage().contains("needs 120 bytes"), error.getMessage());
        assertTrue(error.getMessage().contains("has 100"), error.getMessage());
    }

    @Test
    void rowOfPartialBlocksIsRejected() {
        MemorySegment weights = Arena.ofAuto().allocate(34 * 4);

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Matrices.mapped(DType.Q8_0, weights, 2, 64 + 16));

        assertTrue(error.getMessage().contains("80"), error.getMessage());
    }

    @Test
    void matmulRejectsShortActivations() {
        Matrix matrix = Matrices.mapped(DType.F32, Arena.ofAuto().allocate(4 * 4 * 8), 4, 8);

        assertThrows(IndexOutOfBoundsException.class, () -> matrix.matmul(new float[15], new float[8], 2));
        assertThrows(IndexOutOfBoundsException.class, () -> matrix.matmul(new float[16], new float[7], 2));
        assertThrows(IndexOutOfBoundsException.class, () -> matrix.matmul(new float[16], 1, new float[8], 0, 2));
    }

    @Test
    void typeWithoutKernelIsDecodedToHeap() {
        MemorySegment weights = Arena.ofAuto().allocate(8);
        weights.fill((byte) 0x38);

        Matrix matrix = Matrices.mapped(DType.F8_E4M3, weights, 2, 4);

        assertEquals(1.0f, matrix.get(1, 3), "0x38 is 1.0 in E4M3");
        float[] out = new float[2];
        matrix.matmul(new float[] {1, 2, 3, 4}, out, 1);
        assertArrayEquals(new float[] {10, 10}, out);
    }
}
