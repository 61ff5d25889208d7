package io.sparsemesh.core.checkpoint;

import io.sparsemesh.core.config.GgufConfigReader;
import io.sparsemesh.core.config.HuggingFaceConfigReader;
import io.sparsemesh.core.config.ModelConfig;
import io.sparsemesh.core.tensor.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Converts the tiny Hugging Face DeepSeek-V3 checkpoint to GGUF the way llama.cpp's converter does
 * (llama.cpp names, experts stacked per layer, {@code kv_b_proj} split into a transposed key half and
 * a value half, dims innermost first) and checks that the GGUF store gives back every Hugging Face
 * tensor unchanged, and that both config readers agree.
 */
class GgufDeepseekRoundTripTest {

    private static final Path DEEPSEEK_TINY = SafetensorsTensorStoreTest.DEEPSEEK_TINY;
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

    /** Hugging Face module → llama.cpp tensor, the converter's direction. */
    private static final Map<String, String> TO_GGUF = Map.ofEntries(
            Map.entry("input_layernorm.weight", "attn_norm.weight"),
            Map.entry("post_attention_layernorm.weight", "ffn_norm.weight"),
            Map.entry("self_attn.q_a_proj.weight", "attn_q_a.weight"),
            Map.entry("self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"),
            Map.entry("self_attn.q_b_proj.weight", "attn_q_b.weight"),
            Map.entry("self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"),
            Map.entry("self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"),
            Map.entry("self_attn.o_proj.weight", "attn_output.weight"),
            Map.entry("mlp.gate_proj.weight", "ffn_gate.weight"),
            Map.entry("mlp.up_proj.weight", "ffn_up.weight"),
            Map.entry("mlp.down_proj.weight", "ffn_down.weight"),
            Map.entry("mlp.gate.weight", "ffn_gate_inp.weight"),
            Map.entry("mlp.gate.e_score_correction_bias", "exp_probs_b.bias"),
            Map.entry("mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"),
            Map.entry("mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"),
            Map.entry("mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"));

    @TempDir
    Path dir;

    @Test
    void everyTensorSurvivesConversion() throws IOException {
        ModelConfig config = HuggingFaceConfigReader.read(DEEPSEEK_TINY);
        Path gguf;
        try (SafetensorsTensorStore hf = SafetensorsTensorStore.open(DEEPSEEK_TINY)) {
            gguf = convert(hf, config).write(dir.resolve("deepseek.gguf"));

            try (GgufTensorStore store = GgufTensorStore.open(gguf)) {
                for (String name : hf.tensorNames()) {
                    long[] shape = hf.info(name).shape();
                    assertTrue(store.contains(name), name);
                    assertArrayEquals(shape, store.info(name).shape(), name);
                    assertArrayEquals(TensorValues.read(hf, name, shape), TensorValues.read(store, name, shape), name);
                }
                assertEquals(hf.tensorNames().size() + 2L * 4, store.tensorNames().size(),
                        "the HF tensors plus k_b_proj and v_b_proj of each of the 4 layers");
            }
        }
    }

    @Test
    void configReadersAgree() throws IOException {
        ModelConfig hf = HuggingFaceConfigReader.read(DEEPSEEK_TINY);
        Path gguf;
        try (SafetensorsTensorStore store = SafetensorsTensorStore.open(DEEPSEEK_TINY)) {
            gguf = convert(store, hf).write(dir.resolve("deepseek.gguf"));
        }

        ModelConfig fromGguf = GgufConfigReader.read(GgufFile.read(gguf));

        assertEquals(hf.architecture(), fromGguf.architecture());
        assertEquals(hf.vocabSize(), fromGguf.vocabSize());
        assertEquals(hf.hiddenSize(), fromGguf.hiddenSize());
        assertEquals(hf.numLayers(), fromGguf.numLayers());
        assertEquals(hf.numHeads(), fromGguf.numHeads());
        assertEquals(hf.intermediateSize(), fromGguf.intermediateSize());
        assertEquals(hf.rmsNormEps(), fromGguf.rmsNormEps());
        assertEquals(hf.maxPositionEmbeddings(), fromGguf.maxPositionEmbeddings());
        assertEquals(hf.tieWordEmbeddings(), fromGguf.tieWordEmbeddings());
        assertEquals(hf.mla(), fromGguf.mla());
        assertEquals(hf.moe(), fromGguf.moe());
        assertEquals(hf.rope().layout(), fromGguf.rope().layout());
        assertEquals(hf.rope().rotaryDim(), fromGguf.rope().rotaryDim());
        assertEquals(hf.rope().theta(), fromGguf.rope().theta());
        assertEquals(hf.rope().yarn().factor(), fromGguf.rope().yarn().factor());
        assertEquals(hf.rope().yarn().originalMaxPositionEmbeddings(), fromGguf.rope().yarn().originalMaxPositionEmbeddings());
        assertEquals(hf.rope().yarn().mscaleAllDim(), fromGguf.rope().yarn().mscaleAllDim(), 1e-6);
    }

    /** Writes the tensors and metadata that llama.cpp's converter (as of its MLA split) writes for this model. */
    private static GgufWriter convert(SafetensorsTensorStore hf, ModelConfig config) {
        int layers = config.numLayers();
        int experts = config.moe().numRoutedExperts();
        GgufWriter writer = new GgufWriter()
                .putString("general.architecture", "deepseek2")
                .putUint32("deepseek2.block_count", layers)
                .putUint32("deepseek2.context_length", config.maxPositionEmbeddings())
                .putUint32("deepseek2.embedding_length", config.hiddenSize())
                .putUint32("deepseek2.feed_forward_length", config.intermediateSize())
                .putUint32("deepseek2.attention.head_count", config.numHeads())
                .putUint32("deepseek2.attention.head_count_kv", 1)
                .putFloat32("deepseek2.rope.freq_base", (float) config.rope().theta())
                .putFloat32("deepseek2.attention.layer_norm_rms_epsilon", config.rmsNormEps())
                .putUint32("deepseek2.expert_used_count", config.moe().numExpertsPerToken())
                .putUint32("deepseek2.expert_group_count", config.moe().nGroup())
                .putUint32("deepseek2.expert_group_used_count", config.moe().topkGroup())
                .putUint32("deepseek2.leading_dense_block_count", 1)
                .putUint32("deepseek2.vocab_size", config.vocabSize())
                .putUint32("deepseek2.attention.q_lora_rank", config.mla().qLoraRank())
                .putUint32("deepseek2.attention.kv_lora_rank", config.mla().kvLoraRank())
                .putUint32("deepseek2.attention.key_length", config.mla().kvLoraRank() + config.mla().qkRopeHeadDim())
                .putUint32("deepseek2.attention.value_length", config.mla().kvLoraRank())
                .putUint32("deepseek2.attention.key_length_mla", config.mla().qkHeadDim())
                .putUint32("deepseek2.attention.value_length_mla", config.mla().vHeadDim())
                .putUint32("deepseek2.expert_feed_forward_length", config.moe().moeIntermediateSize())
                .putUint32("deepseek2.expert_count", experts)
                .putUint32("deepseek2.expert_shared_count", config.moe().numSharedExperts())
                .putFloat32("deepseek2.expert_weights_scale", (float) config.moe().routedScalingFactor())
                .put("deepseek2.expert_weights_norm", GgufValueType.BOOL, true)
                .putUint32("deepseek2.expert_gating_func", 2)
                .putUint32("deepseek2.rope.dimension_count", config.mla().qkRopeHeadDim())
                .putString("deepseek2.rope.scaling.type", "yarn")
                .putFloat32("deepseek2.rope.scaling.factor", (float) config.rope().yarn().factor())
                .putUint32("deepseek2.rope.scaling.original_context_length", config.rope().yarn().originalMaxPositionEmbeddings())
                .putFloat32("deepseek2.rope.scaling.yarn_log_multiplier", (float) (0.1 * config.rope().yarn().mscaleAllDim()));

        put(writer, "token_embd.weight", hf, "model.embed_tokens.weight");
        put(writer, "output_norm.weight", hf, "model.norm.weight");
        put(writer, "output.weight", hf, "lm_head.weight");
        for (String name : hf.tensorNames()) {
            Matcher layer = LAYER.matcher(name);
            if (!layer.matches()) {
                continue;
            }
            String module = layer.group(2);
            String gguf = TO_GGUF.get(module);
            if (gguf != null) {
                put(writer, "blk." + layer.group(1) + "." + gguf, hf, name);
            }
        }
        for (int layer = 0; layer < layers; layer++) {
            splitKvB(writer, hf, layer, config);
            if (config.isMoeLayer(layer)) {
                for (String projection : new String[] {"gate", "up", "down"}) {
                    stackExperts(writer, hf, layer, projection, experts);
                }
            }
        }
        return writer;
    }

    private static void put(GgufWriter writer, String ggufName, TensorStore hf, String name) {
        long[] shape = hf.info(name).shape();
        writer.tensorF32(ggufName, reversed(shape), TensorValues.read(hf, name, shape));
    }

    /** Splits kv_b_proj as llama.cpp does: k_b[h][c][i] = kv_b[h·(nope+v) + i][c], v_b[h][j][c] = kv_b[h·(nope+v) + nope + j][c]. */
    private static void splitKvB(GgufWriter writer, TensorStore hf, int layer, ModelConfig config) {
        int heads = config.numHeads();
        int nope = config.mla().qkNopeHeadDim();
        int valueDim = config.mla().vHeadDim();
        int kvLora = config.mla().kvLoraRank();
        Matrix kvB = hf.matrix("model.layers." + layer + ".self_attn.kv_b_proj.weight", heads * (nope + valueDim), kvLora);
        float[] keyHalf = new float[heads * kvLora * nope];
        float[] valueHalf = new float[heads * valueDim * kvLora];
        for (int h = 0; h < heads; h++) {
            for (int c = 0; c < kvLora; c++) {
                for (int i = 0; i < nope; i++) {
                    keyHalf[(h * kvLora + c) * nope + i] = kvB.get(h * (nope + valueDim) + i, c);
                }
                for (int j = 0; j < valueDim; j++) {
                    valueHalf[(h * valueDim + j) * kvLora + c] = kvB.get(h * (nope + valueDim) + nope + j, c);
                }
            }
        }
        writer.tensorF32("blk." + layer + ".attn_k_b.weight", new long[] {nope, kvLora, heads}, keyHalf);
        writer.tensorF32("blk." + layer + ".attn_v_b.weight", new long[] {kvLora, valueDim, heads}, valueHalf);
    }

    private static void stackExperts(GgufWriter writer, TensorStore hf, int layer, String projection, int experts) {
        String first = "model.layers." + layer + ".mlp.experts.0." + projection + "_proj.weight";
        long[] shape = hf.info(first).shape();
        int size = (int) (shape[0] * shape[1]);
        float[] stacked = new float[experts * size];
        for (int expert = 0; expert < experts; expert++) {
            String name = "model.layers." + layer + ".mlp.experts." + expert + "." + projection + "_proj.weight";
            System.arraycopy(TensorValues.read(hf, name, shape), 0, stacked, expert * size, size);
        }
        writer.tensorF32("blk." + layer + ".ffn_" + projection + "_exps.weight",
                new long[] {shape[1], shape[0], experts}, stacked);
    }

    private static long[] reversed(long[] shape) {
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[shape.length - 1 - i];
        }
        return dims;
    }
}
