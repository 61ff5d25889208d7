package io.sparsemesh.core.tiny;

/** How a {@link TinyCheckpoint} stores its tensors. */
enum Storage {

    /** Every tensor F32, as the transformers reference checkpoints in {@code testdata/hf-tiny}. */
    F32,

    /** Every tensor BF16, rounded to nearest (ties to even). */
    BF16,

    /**
     * The layout of DeepSeek's FP8 releases (V3, V3.2). The 2-D weights of the attention, indexer
     * and MLP projections are F8_E4M3, each with an F32 {@code <name>_scale_inv} of one scale per
     * 128 × 128 block. Embeddings, the LM head, the router, the indexer's {@code weights_proj} and
     * every 1-D tensor are BF16, except the router's {@code e_score_correction_bias}, which is F32.
     * NOTE: the stored type of the indexer's {@code k_norm} in DeepSeek's files is assumed, not checked.
     */
    FP8_BLOCKS;

    /** Edge of an FP8 scale block, DeepSeek's {@code quantization_config.weight_block_size}. */
    static final int FP8_BLOCK = 128;

    /** True when tensor {@code name} of {@code dims} dimensions is stored as FP8 with block scales. */
    boolean quantises(String name, int dims) {
        return this == FP8_BLOCKS && dims == 2
                && !name.equals("model.embed_tokens.weight")
                && !name.equals("lm_head.weight")
                && !name.endsWith(".mlp.gate.weight")
                && !name.endsWith(".indexer.weights_proj.weight");
    }

    /** Returns the safetensors dtype of a tensor that is not FP8. */
    String plainDtype(String name) {
        return switch (this) {
            case F32 -> "F32";
            case BF16 -> "BF16";
            case FP8_BLOCKS -> name.endsWith(".e_score_correction_bias") ? "F32" : "BF16";
        };
    }
}
