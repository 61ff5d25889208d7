package io.sparsemesh.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kernels on trained weights: the llama2.c checkpoint of stories260K (dim 64, hidden 172, vocab
 * 512), memory-mapped read-only. Its file starts with seven int32 header fields, then the F32
 * token embedding [512, 64]; layer 0's w2 [64, 172] has rows that whole vectors do not cover.
 */
class RealWeightsTest {

    private static final Path CHECKPOINT = io.sparsemesh.core.TestData.storiesBin();
    private static final int DIM = 64;
    private static final int HIDDEN = 172;
    private static final int VOCAB = 512;
    private static final int LAYERS = 5;
    private static final int KV_DIM = 32;

    private static Arena arena;
    private static MemorySegment file;

    @BeforeAll
    static void map() throws IOException {
        arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(CHECKPOINT, StandardOpenOption.READ)) {
            file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
        assertEquals(DIM, file.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0),
                "unexpected header in " + CHECKPOINT);
    }

    @AfterAll
    static void unmap() {
        arena.close();
    }

    private static MemorySegment embedding() {
        return file.asSlice(28, 4L * VOCAB * DIM);
    }

    private static MemorySegment w2Layer0() {
        long floatsBefore = (long) VOCAB * DIM + LAYERS * DIM + LAYERS * DIM * DIM + 2L * LAYERS * DIM * KV_DIM
                + LAYERS * DIM * DIM + LAYERS * DIM + (long) LAYERS * HIDDEN * DIM;
        return file.asSlice(28 + 4 * floatsBefore, 4L * DIM * HIDDEN);
    }

    @Test
    void tiedHeadLogitsMatchReference() {
        Matrix head = Matrices.mapped(DType.F32, embedding(), VOCAB, DIM);
        float[] hidden = Matrices.toFloats(DType.F32, embedding().asSlice(4L * DIM * 100), 5L * DIM);

        MatrixKernelTest.assertMatmulMatchesReference(head, Matrices.toFloats(DType.F32, embedding(), (long) VOCAB * DIM), 5);
        float[] logits = new float[5 * VOCAB];
        head.matmul(hidden, logits, 5);
        float[] table = Matrices.toFloats(DType.F32, embedding(), (long) VOCAB * DIM);
        for (int b = 0; b < 5; b++) {
            int best = 0;
            int bestExact = 0;
            double bestExactScore = Double.NEGATIVE_INFINITY;
            for (int token = 0; token < VOCAB; token++) {
                best = logits[b * VOCAB + token] > logits[b * VOCAB + best] ? token : best;
                double exact = 0;
                for (int c = 0; c < DIM; c++) {
                    exact += (double) table[token * DIM + c] * hidden[b * DIM + c];
                }
                if (exact > bestExactScore) {
                    bestExactScore = exact;
                    bestExact = token;
                }
            }
            assertEquals(bestExact, best, "argmax of the logits for hidden state " + b);
        }
    }

    @Test
    void downProjectionWithColumnTailMatchesReference() {
        Matrix w2 = Matrices.mapped(DType.F32, w2Layer0(), DIM, HIDDEN);

        MatrixKernelTest.assertMatmulMatchesReference(w2, Matrices.toFloats(DType.F32, w2Layer0(), (long) DIM * HIDDEN), 33);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16", "Q8_0", "Q4_0"})
    void quantisedEmbeddingStaysWithinQuantisationError(DType dtype) {
        float[] weights = Matrices.toFloats(DType.F32, embedding(), (long) VOCAB * DIM);
        MemorySegment encoded = GgmlBlocks.quantize(dtype, weights, Arena.ofAuto());
        float[] decoded = Matrices.toFloats(dtype, encoded, weights.length);
        Matrix exact = Matrices.mapped(DType.F32, embedding(), VOCAB, DIM);
        Matrix quantised = Matrices.mapped(dtype, encoded, VOCAB, DIM);
        int batch = 4;
        float[] x = TestWeights.activations(batch * DIM, 77);

        float[] expected = new float[batch * VOCAB];
        float[] out = new float[batch * VOCAB];
        exact.matmul(x, expected, batch);
        quantised.matmul(x, out, batch);

        double squaredError = 0;
        double squaredNorm = 0;
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < VOCAB; r++) {
                double bound = 0;
                double magnitude = 0;
                for (int c = 0; c < DIM; c++) {
                    bound += Math.abs((double) decoded[r * DIM + c] - weights[r * DIM + c]) * Math.abs(x[b * DIM + c]);
                    magnitude += Math.abs((double) weights[r * DIM + c] * x[b * DIM + c]);
                }
                double error = Math.abs(out[b * VOCAB + r] - expected[b * VOCAB + r]);
                assertTrue(error <= bound + 2 * MatrixKernelTest.TOLERANCE * magnitude,
                        dtype + " output [" + b + "][" + r + "] is off by " + error + ", more than its weight error allows (" + bound + ")");
                squaredError += error * error;
                squaredNorm += (double) expected[b * VOCAB + r] * expected[b * VOCAB + r];
            }
        }
        // Measured on these weights with 8 x rows: F16 2e-4, BF16 1.7e-3, Q8_0 5.3e-3, Q4_0 0.10.
        // The limits leave headroom for other x.
        double limit = switch (dtype) {
            case F16 -> 1e-3;
            case BF16 -> 1e-2;
            case Q8_0 -> 2e-2;
            default -> 0.2;
        };
        double relative = Math.sqrt(squaredError / squaredNorm);
        assertTrue(relative < limit, dtype + " relative RMS error " + relative + " exceeds " + limit);
    }
}
