package io.sparsemesh.core.config;

import io.sparsemesh.core.checkpoint.CheckpointException;
import io.sparsemesh.core.checkpoint.GgufFile;
import io.sparsemesh.core.checkpoint.GgufTensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds a {@link ModelConfig} from the metadata of a GGUF file, for llama.cpp architectures
 * {@code llama} and {@code deepseek2}. Keys are llama.cpp's ({@code gguf-py/gguf/constants.py},
 * class {@code Keys}), prefixed with the architecture name.
 *
 * <p>llama.cpp rotates adjacent pairs for both architectures: its converter permutes Hugging Face
 * Llama's Q/K rows into that order and copies DeepSeek's, which already use it. So every config
 * read here has {@link RopeLayout#INTERLEAVED}.
 */
public final class GgufConfigReader {

    private static final Logger log = LoggerFactory.getLogger(GgufConfigReader.class);

    /** {@code LLAMA_EXPERT_GATING_FUNC_TYPE_*} values of {@code expert_gating_func}. */
    private static final int GATING_SOFTMAX = 1;
    private static final int GATING_SIGMOID = 2;

    private final GgufFile gguf;
    private final String arch;

    private GgufConfigReader(GgufFile gguf) {
        this.gguf = gguf;
        this.arch = gguf.architecture();
    }

    /** Reads the model config from {@code gguf}'s metadata; fails for architectures other than llama and deepseek2. */
    public static ModelConfig read(GgufFile gguf) {
        GgufConfigReader reader = new GgufConfigReader(gguf);
        return switch (reader.arch) {
            case "llama" -> reader.llama();
            case "deepseek2" -> reader.deepseek2();
            default -> throw new CheckpointException("GGUF file " + gguf.path() + " has architecture '" + reader.arch
                    + "'; supported GGUF architectures are llama and deepseek2");
        };
    }

    private ModelConfig llama() {
        int hidden = getInt("embedding_length");
        int heads = getInt("attention.head_count");
        int headDim = getInt("attention.key_length", hidden / heads);
        int rotaryDim = getInt("rope.dimension_count", headDim);
        RopeConfig rope = new RopeConfig(getDouble("rope.freq_base", 10_000.0), RopeLayout.INTERLEAVED, rotaryDim, yarn());
        return new ModelConfig(
                Architecture.LLAMA,
                vocabSize(),
                hidden,
                getInt("block_count"),
                heads,
                getInt("attention.head_count_kv", heads),
                headDim,
                getInt("feed_forward_length"),
                getFloat("attention.layer_norm_rms_epsilon"),
                getInt("context_length"),
                !gguf.tensors().containsKey("output.weight"),
                gguf.getInt("tokenizer.ggml.bos_token_id", 1),
                eosTokenIds(2),
                rope,
                null,
                null,
                null);
    }

    private ModelConfig deepseek2() {
        int layers = getInt("block_count");
        int heads = getInt("attention.head_count");
        int ropeDim = getInt("rope.dimension_count");

        // Files from llama.cpp's MLA converter store llama.cpp's compressed MQA view in key_length and
        // value_length (kv_lora_rank + rope, kv_lora_rank) and the per-head sizes in the *_mla keys.
        boolean mlaKeys = contains("attention.key_length_mla");
        int qkHeadDim = mlaKeys ? getInt("attention.key_length_mla") : getInt("attention.key_length");
        int vHeadDim = mlaKeys ? getInt("attention.value_length_mla") : getInt("attention.value_length");
        MlaConfig mla = new MlaConfig(getInt("attention.q_lora_rank", 0), getInt("attention.kv_lora_rank"),
                qkHeadDim - ropeDim, ropeDim, vHeadDim);
        RopeConfig rope = new RopeConfig(getDouble("rope.freq_base", 10_000.0), RopeLayout.INTERLEAVED, ropeDim, yarn());
        if (contains("attention.indexer.head_count")) {
            // NOTE: the lightning indexer of DeepSeek-V3.2 GGUF files is not read; such a model runs with dense attention.
            log.warn("GGUF file {} has lightning indexer keys, which this reader ignores", gguf.path());
        }

        return new ModelConfig(
                Architecture.DEEPSEEK_V3,
                vocabSize(),
                getInt("embedding_length"),
                layers,
                heads,
                heads,
                qkHeadDim,
                getInt("feed_forward_length"),
                getFloat("attention.layer_norm_rms_epsilon"),
                getInt("context_length"),
                !gguf.tensors().containsKey("output.weight"),
                gguf.getInt("tokenizer.ggml.bos_token_id", 0),
                eosTokenIds(1),
                rope,
                mla,
                null,
                moe(layers));
    }

    private MoeConfig moe(int layers) {
        int experts = getInt("expert_count", 0);
        if (experts == 0) {
            return null;
        }
        int leadingDense = getInt("leading_dense_block_count", 0);
        List<MlpType> types = new ArrayList<>(layers);
        for (int layer = 0; layer < layers; layer++) {
            types.add(layer < leadingDense ? MlpType.DENSE : MlpType.SPARSE);
        }
        return new MoeConfig(
                experts,
                getInt("expert_shared_count", 0),
                getInt("expert_used_count"),
                getInt("expert_group_count", 1),
                getInt("expert_group_used_count", 1),
                getDouble("expert_weights_scale", 1.0),
                contains("expert_weights_norm") && gguf.getBoolean(key("expert_weights_norm")),
                gatingFunction(),
                getInt("expert_feed_forward_length"),
                types);
    }

    /** Reads {@code expert_gating_func}; files written before the key existed are DeepSeek-V2 models, which use softmax. */
    private ScoringFunction gatingFunction() {
        int gating = getInt("expert_gating_func", GATING_SOFTMAX);
        return switch (gating) {
            case GATING_SOFTMAX -> ScoringFunction.SOFTMAX;
            case GATING_SIGMOID -> ScoringFunction.SIGMOID;
            default -> throw new CheckpointException("GGUF file " + gguf.path() + ": " + key("expert_gating_func")
                    + " is " + gating + "; supported values are 1 (softmax) and 2 (sigmoid)");
        };
    }

    /**
     * Reads YaRN settings, or returns null unless {@code rope.scaling.type} is {@code yarn}. llama.cpp
     * stores {@code 0.1 · mscale_all_dim} as {@code yarn_log_multiplier} and no separate {@code mscale},
     * so both are taken from it (DeepSeek-V3's own config sets them equal).
     */
    private YarnScaling yarn() {
        if (gguf.tensors().containsKey("rope_freqs.weight")) {
            // NOTE: Llama 3.1 style per-frequency factors are not applied; long-context outputs will differ from llama.cpp.
            log.warn("GGUF file {} has a rope_freqs.weight tensor, whose RoPE frequency factors this reader ignores",
                    gguf.path());
        }
        String type = gguf.getString(key("rope.scaling.type"), "none");
        if (type.equals("none")) {
            return null;
        }
        if (!type.equals("yarn")) {
            throw new CheckpointException("GGUF file " + gguf.path() + ": " + key("rope.scaling.type") + " is '" + type
                    + "'; supported RoPE scaling types are none and yarn");
        }
        double mscaleAllDim = getDouble("rope.scaling.yarn_log_multiplier", 0.0) / 0.1;
        return new YarnScaling(
                getDouble("rope.scaling.factor", 1.0),
                getInt("rope.scaling.original_context_length"),
                getDouble("rope.scaling.yarn_beta_fast", 32.0),
                getDouble("rope.scaling.yarn_beta_slow", 1.0),
                mscaleAllDim,
                mscaleAllDim);
    }

    private int vocabSize() {
        if (contains("vocab_size")) {
            return getInt("vocab_size");
        }
        GgufTensor embeddings = gguf.tensors().get("token_embd.weight");
        if (embeddings == null) {
            throw new CheckpointException("GGUF file " + gguf.path() + " has neither " + key("vocab_size")
                    + " nor a token_embd.weight tensor, so its vocabulary size is unknown");
        }
        return Math.toIntExact(embeddings.shape()[0]);
    }

    /** Returns the end-of-sequence id plus the end-of-turn and end-of-message ids when the file names them. */
    private List<Integer> eosTokenIds(int defaultEos) {
        List<Integer> ids = new ArrayList<>();
        ids.add(gguf.getInt("tokenizer.ggml.eos_token_id", defaultEos));
        for (String key : List.of("tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id")) {
            if (gguf.contains(key)) {
                long id = gguf.getLong(key);
                if (id >= 0 && id < Integer.MAX_VALUE && !ids.contains((int) id)) {
                    ids.add((int) id);
                }
            }
        }
        return ids;
    }

    private String key(String suffix) {
        return arch + "." + suffix;
    }

    private boolean contains(String suffix) {
        return gguf.contains(key(suffix));
    }

    private int getInt(String suffix) {
        return gguf.getInt(key(suffix));
    }

    private int getInt(String suffix, int defaultValue) {
        return gguf.getInt(key(suffix), defaultValue);
    }

    private float getFloat(String suffix) {
        return gguf.getFloat(key(suffix));
    }

    private double getDouble(String suffix, double defaultValue) {
        return gguf.getDouble(key(suffix), defaultValue);
    }
}
