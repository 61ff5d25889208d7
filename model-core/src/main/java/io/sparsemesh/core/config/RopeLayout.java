package io.sparsemesh.core.config;

/** How RoPE pairs the dimensions it rotates. */
public enum RopeLayout {
    /** Pairs {@code (2i, 2i+1)}: llama2.c, GGUF llama, DeepSeek with {@code rope_interleave}. */
    INTERLEAVED,
    /** Pairs {@code (i, i + d/2)} ("rotate_half"): Hugging Face Llama and GPT-NeoX. */
    NEOX
}
