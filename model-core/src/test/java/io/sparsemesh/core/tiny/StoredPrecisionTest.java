package io.sparsemesh.core.tiny;

import io.sparsemesh.core.checkpoint.Checkpoints;
import io.sparsemesh.core.checkpoint.ModelCheckpoint;
import io.sparsemesh.core.checkpoint.SafetensorsWriter;
import io.sparsemesh.core.checkpoint.TensorStore;
import io.sparsemesh.core.tensor.Matrix;
import io.sparsemesh.core.tiny.TinyCheckpoint.Fp8Weight;
import io.sparsemesh.core.tiny.TinyTensors.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The BF16 and FP8 checkpoints: every weight the engine reads equals a dequantisation written out
 * here from the stored bits, and the BF16 Llama's logits stay close to those of the same weights
 * stored as F32.
 */
class StoredPrecisionTest {

    /**
     * Largest logit difference allowed between the BF16 and F32 Llama, whose logits have a standard
     * deviation of about 0.4. BF16 keeps 8 significant bits, so each weight moves by up to 2^-9 of
     * itself; the largest difference measured over these prompts is 0.015.
     */
    static final float BF16_LOGIT_TOLERANCE = 3e-2f;

    @TempDir
    Path dir;

    @Test
    void bf16WeightsDecodeExactly() throws Exception {
        TinyCheckpoint tiny = TinyModels.llama(dir.resolve("llama_bf16"), Storage.BF16);
        try (ModelCheckpoint checkpoint = Checkpoints.open(tiny.folder(), null)) {
            for (Tensor tensor : tiny.tensors().all().values()) {
                float[] read = values(checkpoint.store(), tensor);
                float[] original = tensor.values();
                for (int i = 0; i < original.length; i++) {
                    int index = i;
                    float expected = SafetensorsWriter.fromBf16(SafetensorsWriter.toBf16(original[i]));
                    assertEquals(expected, read[i], 0f, () -> tensor.name() + "[" + index + "]");
                    assertTrue(Math.abs(read[i] - original[i]) <= Math.abs(original[i]) * 0x1p-8f,
                            () -> tensor.name() + "[" + index + "]: " + read[index] + " is not " + original[index]
                                    + " rounded to BF16");
                }
            }
        }
    }

    @Test
    void fp8WeightsEqualIndependentDequantisation() throws Exception {
        TinyCheckpoint tiny = TinyModels.deepseekV32(dir.resolve("deepseek_v32"));
        boolean partialMultiBlock = false;
        try (ModelCheckpoint checkpoint = Checkpoints.open(tiny.folder(), null)) {
            for (var entry : tiny.fp8().entrySet()) {
                Tensor tensor = tiny.tensors().get(entry.getKey());
                Fp8Weight weight = entry.getValue();
                int rows = tensor.rows();
                int cols = tensor.cols();
                Matrix matrix = checkpoint.store().matrix(tensor.name(), rows, cols);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        float scale = weight.scales()[(r / Storage.FP8_BLOCK) * weight.scaleCols() + c / Storage.FP8_BLOCK];
                        float expected = E4m3.decode(weight.bits()[r * cols + c]) * scale;
                        Supplier<String> where = at(tensor, r, c);
                        assertEquals(expected, matrix.get(r, c), 0f, where);

                        // E4M3 keeps 3 mantissa bits, and its subnormals are 2^-9 apart
                        float original = tensor.values()[r * cols + c];
                        float bound = Math.abs(original) / 16 + scale * 0x1p-10f;
                        assertTrue(Math.abs(expected - original) <= bound, () -> where.get() + ": " + expected
                                + " is farther than " + bound + " from the original " + original);
                    }
                }
                partialMultiBlock |= weight.scaleRows() > 1 && weight.scaleCols() > 1
                        && rows % Storage.FP8_BLOCK != 0 && cols % Storage.FP8_BLOCK != 0;
            }
        }
        assertTrue(tiny.fp8().containsKey("model.layers.1.self_attn.indexer.wq_b.weight"));
        assertTrue(partialMultiBlock, "no FP8 weight spans several 128 × 128 blocks with partial edge blocks");
    }

    @Test
    void bf16LogitsCloseToF32() throws Exception {
        TinyCheckpoint bf16 = TinyModels.llama(dir.resolve("llama_bf16"), Storage.BF16);
        TinyCheckpoint f32 = TinyModels.llama(dir.resolve("llama_f32"), Storage.F32);
        float largest = 0;
        for (int[] prompt : Runs.PROMPTS) {
            Runs.Trace fromF32 = Traces.greedy(f32, prompt, Runs.NEW_TOKENS);
            Runs.Trace fromBf16 = Traces.forced(bf16, prompt, fromF32.generated(prompt.length));
            for (int step = 0; step < Runs.NEW_TOKENS; step++) {
                float difference = Traces.maxDifference(fromF32.logits()[step], fromBf16.logits()[step]);
                assertTrue(difference <= BF16_LOGIT_TOLERANCE, "prompt of " + prompt.length + ", step " + step
                        + ": BF16 logits differ from F32 by " + difference);
                largest = Math.max(largest, difference);
            }
        }
        assertTrue(largest > 0, "BF16 rounding changed no logit, so the two checkpoints hold the same values");
    }

    private static Supplier<String> at(Tensor tensor, int row, int col) {
        return () -> tensor.name() + "[" + row + "][" + col + "]";
    }

    /** Reads a whole tensor back from the store as floats. */
    private static float[] values(TensorStore store, Tensor tensor) {
        if (tensor.shape().length == 1) {
            return store.vector(tensor.name(), tensor.rows());
        }
        Matrix matrix = store.matrix(tensor.name(), tensor.rows(), tensor.cols());
        float[] out = new float[tensor.rows() * tensor.cols()];
        for (int r = 0; r < tensor.rows(); r++) {
            matrix.copyRow(r, out, r * tensor.cols());
        }
        return out;
    }
}
